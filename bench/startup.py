#!/usr/bin/env python3
"""Start-up cost, size, memory and idle wakeups of pginit against tini and dumb-init, and the
cost of one readiness check against pg_isready and psql."""
import os
import shutil
import signal
import subprocess
import time

from common import PGINIT, PgServer, SUPERUSER_PASSWORD, median_ms, print_table
from procfs import proc_status

RUNS = int(os.environ.get("RUNS", "200"))


def time_runs(argv, runs=RUNS, env=None):
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        samples.append(time.perf_counter() - started)
    return samples


def idle_profile(argv):
    proc = subprocess.Popen(argv + ["sleep", "1000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    before = int(proc_status(proc.pid)["voluntary_ctxt_switches"])
    time.sleep(3)
    after = proc_status(proc.pid)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    return after["VmRSS"], int(after["voluntary_ctxt_switches"]) - before


def main():
    inits = {
        "(none)": [],
        "pginit --no-wait": [PGINIT, "--no-wait", "--"],
        "tini -s": ["tini", "-s", "--"],
        "dumb-init": ["dumb-init"],
    }
    rows = []
    for name, prefix in inits.items():
        startup = median_ms(time_runs(prefix + ["true"]))
        binary = shutil.which(prefix[0]) if prefix else None
        size = f"{os.path.getsize(binary) // 1024} KiB" if binary else "-"
        rss, wakeups = idle_profile(prefix) if prefix else ("-", "-")
        rows.append([name, f"{startup:.2f}", size, rss, wakeups])
    print_table(f"Running `true` under each init (median of {RUNS} runs), and supervising `sleep` for 3 s idle",
                ["init", "start+exit ms", "binary size", "RSS supervising", "wakeups in 3 s idle"], rows)

    server = PgServer()
    server.start()
    try:
        dsn = f"postgres://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{server.port}/postgres"
        env = dict(os.environ, PGPASSWORD=SUPERUSER_PASSWORD)
        checks = {
            "pginit --check (connect + SELECT 1)": [PGINIT, "--quiet", "--check", "--dsn", dsn],
            "pg_isready (no authentication, no query)": ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(server.port)],
            "psql -c 'select 1'": ["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres",
                                   "-c", "select 1"],
        }
        rows = [[name, f"{median_ms(time_runs(argv, runs=100, env=env)):.2f}"] for name, argv in checks.items()]
    finally:
        server.destroy()
    print_table("One readiness check against a live server (median of 100 runs)", ["command", "ms"], rows)


if __name__ == "__main__":
    main()
