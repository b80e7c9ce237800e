"""Figure 5, signal forwarding latency: `kill -TERM` to the init at t0 (CLOCK_MONOTONIC), the
child's handler runs at t1 (it writes its own CLOCK_MONOTONIC time): t1 - t0, one sample per signal.
Every init runs at once and they take turns, sample by sample, so that the machine's noise (2 shared
cores) falls on all of them alike, each in every place of the round equally often."""
import os
import signal
import subprocess
import tempfile
import time

import common
from common import Section, Stats


def latencies(inits, child, samples):
    """{name: [seconds]}: `samples` rounds, each sending one SIGTERM through every init in turn."""
    procs = {name: subprocess.Popen(argv + [child], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
             for name, argv in inits.items()}
    results = {name: [] for name in inits}
    try:
        for proc in procs.values():
            assert proc.stdout.readline().strip() == "ready"
        order = list(procs.items())
        for round_number in range(samples):
            # Each init takes each place in the round equally often: none always follows the same one.
            shift = round_number % len(order)
            for name, proc in order[shift:] + order[:shift]:
                sent = time.monotonic_ns()
                os.kill(proc.pid, signal.SIGTERM)
                handled = int(proc.stdout.readline())
                results[name].append((handled - sent) / 1e9)
                time.sleep(0.002)
        return results
    finally:
        for proc in procs.values():
            os.kill(proc.pid, signal.SIGUSR2)  # forwarded too: the child exits 0, and so does its init
            proc.wait()


def run():
    inits = {f"{label} --no-wait --": [path, "--no-wait", "--"] for label, path in common.pginit_builds()}
    if before := common.earlier_build("PGINIT_BEFORE_19"):
        inits["pginit before issue 19 (static) --no-wait --"] = [before, "--no-wait", "--"]
    inits["tini -s --"] = ["tini", "-s", "--"]
    inits["dumb-init"] = ["dumb-init"]
    samples = common.trials(300, quick=5)
    with tempfile.TemporaryDirectory() as directory:
        child = common.compile_helper("signal_child", directory)
        stats = {name: Stats(values) for name, values in latencies(inits, child, samples).items()}
    baseline = "tini -s --"
    rows = []
    for name, stat in stats.items():
        rows.append([name, f"{stat.min * 1e6:.0f}", f"{stat.median * 1e6:.0f}", f"{stat.p95 * 1e6:.0f}",
                     f"{stat.max * 1e6:.0f}", f"{stat.median / stats[baseline].median:.2f}x"])
    section = Section("signals", f"5. Signal forwarding latency: kill -TERM to the init until the child's handler "
                                 f"runs ({samples} samples each)",
                      common.table(["init", "min µs", "median µs", "p95 µs", "max µs", "median vs tini"], rows))
    common.ratio_goals(section, stats, baseline, 1.2, "≤ 1.2x tini")
    for name, stat in stats.items():
        if name.startswith("pginit"):
            label = name.split(" --")[0]
            section.goals.append((f"{label}: median ≤ dumb-init's", stat.median <= stats["dumb-init"].median,
                                  f"{stat.median * 1e6:.0f} µs vs {stats['dumb-init'].median * 1e6:.0f} µs"))
            section.goals.append((f"{label}: p95 ≤ tini's", stat.p95 <= stats[baseline].p95,
                                  f"{stat.p95 * 1e6:.0f} µs vs {stats[baseline].p95 * 1e6:.0f} µs"))
    return section
