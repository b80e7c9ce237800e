"""What every benchmark shares: the binaries compared (always the peers' real binaries, never a
wrapper script), hyperfine, statistics, and the tables that results.md and README quote."""
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from pgserver import PG_BIN, SUPERUSER_PASSWORD, PgServer  # noqa: E402

PG_ISREADY = f"{PG_BIN}/pg_isready"  # /usr/bin/pg_isready is Debian's Perl wrapper: ~30 ms more per call
PSQL = f"{PG_BIN}/psql"
PYTHON = "/usr/bin/python3"  # Debian's, with python3-psycopg2 and python3-django

QUICK = False  # bench/run --quick: a few trials of each, only to see that every benchmark completes


def pginit_builds():
    """(label, path) of every pginit build present: the static one is what ships."""
    builds = [("pginit (static)", os.path.join(ROOT, "build-static", "pginit")),
              ("pginit (dynamic)", os.path.join(ROOT, "build", "pginit"))]
    return [(label, path) for label, path in builds if os.path.exists(path)]


def unpatched_build():
    """("before issue 28: ...", path) for the static build whose libpq computes SCRAM as Debian's source does
    (PGINIT_LIBPQ_PATCHES=none scripts/build-static, which bench/run makes): the figures that log in
    show it beside today's. Its label does not start with "pginit": no goal is checked for it."""
    path = os.path.join(ROOT, "build-static-unpatched", "pginit")
    return [("before issue 28: pginit (static, libpq's own SCRAM)", path)] if os.path.exists(path) else []


def trials(full, quick=2):
    return quick if QUICK else full


@dataclass
class Stats:
    samples: list

    @property
    def min(self):
        return min(self.samples)

    @property
    def median(self):
        return statistics.median(self.samples)

    @property
    def p95(self):
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def max(self):
        return max(self.samples)


@dataclass
class Section:
    """One benchmark's result: a title, a markdown table, and its goals, met or missed."""
    key: str
    title: str
    table: str
    goals: list = field(default_factory=list)  # (text, met: bool, measured: str)
    notes: list = field(default_factory=list)

    def markdown(self):
        lines = [f"### {self.title}", "", self.table, ""]
        for text, met, measured in self.goals:
            lines.append(f"- Goal {text}: **{'met' if met else 'MISSED'}** ({measured})")
        for note in self.notes:
            lines.append(f"- {note}")
        return "\n".join(lines).rstrip() + "\n"


def table(header, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])


def ms(seconds, digits=1):
    return f"{seconds * 1000:.{digits}f}"


def timing_table(stats_by_name, baseline, unit_digits=1):
    """min / median / p95 / max in ms, and each median's ratio to `baseline`'s, measured in the same run."""
    rows = []
    for name, stats in stats_by_name.items():
        ratio = stats.median / stats_by_name[baseline].median
        rows.append([name, ms(stats.min, unit_digits), ms(stats.median, unit_digits), ms(stats.p95, unit_digits),
                     ms(stats.max, unit_digits), f"{ratio:.2f}x"])
    return table(["command", "min ms", "median ms", "p95 ms", "max ms", f"median vs {baseline}"], rows)


def ratio_goals(section, stats, baseline, limit, goal):
    """For every pginit build in `stats`: is its median ≤ `limit` × the baseline's? `goal` names
    the comparison, e.g. "≤ 1.5x tini"."""
    for name, stat in stats.items():
        if name.startswith("pginit"):
            ratio = stat.median / stats[baseline].median
            label = name.split(" --")[0]
            section.goals.append((f"{label} {goal}", ratio <= limit, f"{ratio:.2f}x"))


def hyperfine(commands, runs, warmup=3, env=None, cwd=None):
    """Times each argv (no shell: -N) with hyperfine; {name: Stats} in seconds."""
    with tempfile.NamedTemporaryFile(suffix=".json") as export:
        argv = ["hyperfine", "-N", "--style", "none", "--runs", str(runs), "--warmup", str(warmup),
                "--export-json", export.name]
        for name, command in commands.items():
            argv += ["--command-name", name, shlex.join(command)]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
        results = json.load(open(export.name))["results"]
    return {result["command"]: Stats(result["times"]) for result in results}


def dsn(server, db="postgres"):
    return f"postgres://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{server.port}/{db}"


def superuser_env():
    return dict(os.environ, PGPASSWORD=SUPERUSER_PASSWORD)


def earlier_build(variable):
    """The path of an earlier pginit build named by the environment VARIABLE (PGINIT_BEFORE for figure 12's: a
    commit before issue 25; PGINIT_BEFORE_19 for figures 5 and 13), measured beside today's in the same run;
    None without one."""
    path = os.environ.get(variable)
    return path if path and os.path.exists(path) else None


def compile_helper(name, directory):
    """Compiles bench/NAME.c (a small C helper of a benchmark) into DIRECTORY; returns its path."""
    path = os.path.join(directory, name)
    subprocess.run(["cc", "-O2", "-o", path, os.path.join(HERE, f"{name}.c")], check=True)
    return path
