#!/usr/bin/env python3
"""Runs the benchmarks (all, or those named), prints their tables and, for a full run of all of them,
writes bench/results.md and README's Benchmarks section from it.
  bench.py --readme-only rewrites README's summary from bench/results.md.
  bench.py [--quick] [wait_lag check start exec signals idle sizes architectures many_files replicas fingerprint gitlab pooler herd login_cpu]"""
import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile

import common
import herd
import migrations
import pooler
import resources
import signals
import startup
import wait_lag
from common import HERE, ROOT, PgServer

RESULTS = os.path.join(HERE, "results.md")
PLOT = os.path.join(HERE, "ready_lag.png")
README = os.path.join(ROOT, "README.md")


def benchmarks(server, directory, plot):
    """Every benchmark, in order, as key -> function returning a Section."""
    return {
        "wait_lag": lambda: wait_lag.run(plot),
        "check": lambda: startup.readiness_check(server),
        "start": lambda: startup.startup_with_database(server),
        "exec": startup.exec_to_exit,
        "signals": signals.run,
        "idle": resources.idle_costs,
        "sizes": resources.sizes,
        "architectures": resources.architectures,
        "many_files": lambda: migrations.many_small_files(server, os.path.join(directory, "many")),
        "replicas": lambda: migrations.replicas_at_once(server, directory),
        "fingerprint": lambda: migrations.fingerprint_skip(server),
        "gitlab": lambda: migrations.gitlab_schema(server, directory),
        "pooler": lambda: pooler.run(server, directory),
        "herd": lambda: herd.run(directory),
        "login_cpu": lambda: startup.login_cpu(server),
    }


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True).stdout.strip()
    # The bench's own outputs (results.md, the plot, README's section) do not make the measured code dirty.
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results.md",
                            ":!bench/*.png", ":!README.md"], cwd=ROOT, stdout=subprocess.PIPE,
                           text=True).stdout.strip()
    return (f"{datetime.date.today().isoformat()}, {cpu}, {os.cpu_count()} cores, Linux {platform.release()}, "
            f"commit {commit}{' (with uncommitted changes)' if dirty else ''}")


def results_markdown(sections):
    lines = ["# Benchmark results", "",
             f"Measured by `bench/run` on {machine()}.", "",
             "pginit's static (shipped) and dynamic builds against the peers' real binaries from Debian "
             "(`/usr/lib/postgresql/15/bin/pg_isready` and `psql`, not the Perl wrapper on PATH; tini, tini-static, "
             "dumb-init, wait-for-it) and dbmate from npm, all in the same run on the same throwaway Postgres 15; "
             "ratios compare medians of that run. A missed goal is shown as MISSED, not tuned away.", ""]
    for section in sections:
        lines.append(section.markdown())
    return "\n".join(lines)


def readme_summary(markdown):
    """README's Benchmarks section: each figure's title and its goals, from results.md (the tables stay there)."""
    lines = []
    for block in markdown.split("\n### ")[1:]:
        title = block.split("\n", 1)[0]
        goals = [line[len("- Goal "):] for line in block.splitlines() if line.startswith("- Goal ")]
        lines.append(f"- **{title}**" + (": " + "; ".join(goals) if goals else ""))
    return "\n".join(lines) + "\n"


def update_readme(markdown):
    """README's Benchmarks section summarises results.md between its markers (no hand-typed numbers)."""
    text = open(README).read()
    new = re.sub(r"(<!-- bench:begin -->\n).*?(<!-- bench:end -->)",
                 lambda m: m.group(1) + readme_summary(markdown) + m.group(2), text, flags=re.S)
    with open(README, "w") as f:
        f.write(new)


def main(argv):
    common.QUICK = "--quick" in argv
    chosen = [arg for arg in argv if not arg.startswith("--")]
    server = PgServer()
    server.start()
    sections = []
    try:
        with tempfile.TemporaryDirectory(prefix="pginit-bench-") as directory:
            plot = None if common.QUICK else PLOT
            available = benchmarks(server, directory, plot)
            unknown = [name for name in chosen if name not in available]
            if unknown:
                sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(available)}")
            for name in chosen or available:
                print(f"== {name}", file=sys.stderr, flush=True)
                section = available[name]()
                print("\n" + section.markdown(), flush=True)
                sections.append(section)
    finally:
        server.destroy()
    if not common.QUICK and not chosen:
        markdown = results_markdown(sections)
        with open(RESULTS, "w") as f:
            f.write(markdown)
        update_readme(markdown)
        print(f"wrote {RESULTS} and README's Benchmarks section", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1:] == ["--readme-only"]:  # README's summary again from the results.md there is
        update_readme(open(RESULTS).read())
    else:
        main(sys.argv[1:])
