"""Figure 1, ready lag: how long after Postgres says "ready to accept connections" (its log, %m)
each waiter lets the app start. One waiter per trial (two at once would compete for the CPU just when
Postgres comes up), the waiters taking turns; Postgres starts 1 to 2 s after the waiter, at random,
so that no once-a-second loop is in phase with it."""
import datetime
import os
import random
import subprocess
import threading
import time

import common
from common import PG_ISREADY, PYTHON, PgServer, Section, Stats, SUPERUSER_PASSWORD

SEED_LOOP = """
import sys, time, psycopg2
while True:
    try:
        psycopg2.connect(sys.argv[1]).close()
        break
    except psycopg2.OperationalError:
        time.sleep(1)
"""


def waiters(port):
    dsn = f"postgres://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{port}/postgres"
    found = {label: [path, "--quiet", "--dsn", dsn, "--timeout", "60s"] for label, path in common.pginit_builds()}
    found["python loop (psycopg2, sleep 1: the seed's wait_for_db)"] = [PYTHON, "-c", SEED_LOOP, dsn]
    found["until pg_isready; do sleep 1; done"] = [
        "sh", "-c", f"until {PG_ISREADY} -q -h 127.0.0.1 -p {port}; do sleep 1; done"]
    found["wait-for-it (TCP only)"] = ["wait-for-it", "-q", "-t", "60", f"127.0.0.1:{port}"]
    return found


def accept_time(log_path):
    for line in reversed(open(log_path).read().splitlines()):
        if "database system is ready to accept connections" in line:
            stamp = datetime.datetime.strptime(" ".join(line.split()[:2]), "%Y-%m-%d %H:%M:%S.%f")
            return stamp.replace(tzinfo=datetime.timezone.utc).timestamp()
    raise RuntimeError("no ready line in the server log")


def one_trial(server, argvs):
    """Starts every waiter, then Postgres; returns {waiter: lag in seconds}."""
    ended = {}
    procs = {name: subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for name, argv in argvs.items()}

    def watch(name, proc):
        # No timeout: with one, Popen.wait polls with sleeps of up to 50 ms, which would be measured too.
        proc.wait()
        ended[name] = time.time()
    threads = [threading.Thread(target=watch, args=item) for item in procs.items()]
    for thread in threads:
        thread.start()
    time.sleep(1.0 + random.random())
    server.start(wait=False)
    for thread in threads:
        thread.join()
    server.wait_until_accepting()
    accepted = accept_time(server.log)
    server.stop(mode="fast")  # a clean shutdown: the next start is a normal one, without crash recovery
    os.unlink(server.log)
    return {name: ended[name] - accepted for name in argvs}


def plot(lags, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(lags)
    figure, axes = plt.subplots(figsize=(12, 0.7 * len(names) + 1.8))
    for row, name in enumerate(names):
        values = [lag * 1000 for lag in lags[name]]
        jitter = [row + random.uniform(-0.15, 0.15) for _ in values]
        axes.scatter(values, jitter, s=18, alpha=0.7)
    axes.set_yticks(range(len(names)), names)
    axes.invert_yaxis()
    axes.set_xlabel("ms from Postgres accepting connections to the waiter's exit (one dot per trial)")
    figure.suptitle("Ready lag: Postgres started 1-2 s after the waiter, at random")
    axes.axvline(0, color="grey", linewidth=0.8)
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def run(plot_path=None):
    server = PgServer(extra_conf="log_line_prefix = '%m '\nlog_timezone = 'UTC'\n")
    count = common.trials(20, quick=2)
    lags = {}
    try:
        argvs = waiters(server.port)
        for _ in range(count):
            for name, argv in argvs.items():
                lags.setdefault(name, []).append(one_trial(server, {name: argv})[name])
    finally:
        server.destroy()
    rows = []
    for name, values in lags.items():
        stats = Stats(values)
        rows.append([name, f"{stats.median * 1000:.0f}", f"{stats.p95 * 1000:.0f}", f"{stats.min * 1000:.0f}",
                     f"{stats.max * 1000:.0f}"])
    section = Section("wait_lag", f"1. Ready lag after Postgres accepts connections ({count} trials each)",
                      common.table(["waiter", "median ms", "p95 ms", "min ms", "max ms"], rows),
                      notes=["A negative lag means the waiter returned before Postgres was ready (TCP only)."])
    for label, _ in common.pginit_builds():
        stats = Stats(lags[label])
        section.goals.append((f"{label}: median ≤ 30 ms, p95 ≤ 80 ms", stats.median <= 0.030 and stats.p95 <= 0.080,
                              f"median {stats.median * 1000:.0f} ms, p95 {stats.p95 * 1000:.0f} ms"))
    if plot_path:
        plot(lags, plot_path)
        section.notes.append(f"Every trial as a dot: [{os.path.basename(plot_path)}]({os.path.basename(plot_path)})")
    return section
