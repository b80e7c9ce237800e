"""Figures 6 and 7: what an idle supervisor costs (wakeups, private memory, RSS) and what the
binaries weigh (size, stripped size, shared libraries, system calls of --version)."""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import common
from common import ROOT, Section

# Published or measured elsewhere, for the note only (not installable here: neither in Debian nor npm).
OTHER_TOOLS_NOTE = ("wait4x and golang-migrate are Go binaries that neither Debian nor npm ships, so they are "
                    "not measured here; dbmate is measured from its npm package.")


def smaps(pid):
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            match = re.match(r"(\w+):\s+(\d+) kB", line)
            if match:
                fields[match.group(1)] = int(match.group(2))
    return fields


def switches(pid):
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f)
    return int(status["voluntary_ctxt_switches"]) + int(status["nonvoluntary_ctxt_switches"])


def idle_costs():
    inits = {f"{label}": [path, "--no-wait", "--"] for label, path in common.pginit_builds()}
    inits.update({"tini": ["tini", "-s", "--"], "tini-static": ["tini-static", "-s", "--"], "dumb-init": ["dumb-init"]})
    seconds = common.trials(10, quick=1)
    procs = {name: subprocess.Popen(argv + ["sleep", "1000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for name, argv in inits.items()}
    try:
        time.sleep(0.5)
        before = {name: switches(proc.pid) for name, proc in procs.items()}
        time.sleep(seconds)
        after = {name: (switches(proc.pid), smaps(proc.pid)) for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
    rows = [[name, after[name][0] - before[name], after[name][1]["Pss_Anon"], after[name][1]["Rss"]] for name in inits]
    section = Section("idle", f"6. Supervising an idle `sleep` for {seconds} s: wakeups and memory "
                              "(/proc/PID/status, /proc/PID/smaps_rollup)",
                      common.table(["init", f"wakeups in {seconds} s", "Pss_Anon kB", "RSS kB"], rows))
    tini = after["tini"][1]
    for label, _ in common.pginit_builds():
        wakeups, memory = after[label][0] - before[label], after[label][1]
        section.goals.append((f"{label}: 0 wakeups", wakeups == 0, f"{wakeups}"))
        section.goals.append((f"{label}: Pss_Anon ≤ tini's", memory["Pss_Anon"] <= tini["Pss_Anon"],
                              f"{memory['Pss_Anon']} kB vs {tini['Pss_Anon']} kB"))
        if "static" in label:
            section.goals.append((f"{label}: RSS ≤ 3 MB", memory["Rss"] <= 3 * 1024, f"{memory['Rss']} kB"))
    return section


def shared_libraries(path):
    ldd = subprocess.run(["ldd", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    if "not a dynamic executable" in ldd or "statically linked" in ldd:
        return 0
    return sum(1 for line in ldd.splitlines() if "=>" in line or "ld-linux" in line)


def total_calls(argv):
    """Total system calls from strace -c's summary line ("100.00 t s u calls errors total")."""
    with tempfile.NamedTemporaryFile() as summary:
        subprocess.run(["strace", "-f", "-c", "-o", summary.name] + argv, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        last = [line.split() for line in open(summary.name) if line.strip().endswith("total")][-1]
        return int(last[3])


def stripped_size(path):
    with tempfile.TemporaryDirectory() as directory:
        copy = os.path.join(directory, "stripped")
        subprocess.run(["strip", "-o", copy, path], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return os.path.getsize(copy)


def dbmate_binary():
    found = glob.glob(os.path.join(ROOT, ".cache", "npm", "node_modules", "@dbmate", "*", "bin", "dbmate"))
    return found[0] if found else None


def sizes():
    binaries = {label: (path, [path, "--version"]) for label, path in common.pginit_builds()}
    for name in ("tini", "tini-static", "dumb-init"):
        binaries[name] = (shutil.which(name), [name, "--version"])
    if dbmate_binary():
        binaries["dbmate (npm)"] = (dbmate_binary(), [dbmate_binary(), "--version"])
    rows = []
    for name, (path, version_argv) in binaries.items():
        rows.append([name, f"{os.path.getsize(path) / 1e6:.2f} MB", f"{stripped_size(path) / 1e6:.2f} MB",
                     shared_libraries(path), total_calls(version_argv)])
    section = Section("sizes", "7. Binary size, shared libraries loaded, and system calls of `--version`",
                      common.table(["binary", "size", "stripped", "shared libraries", "syscalls of --version"], rows),
                      notes=[OTHER_TOOLS_NOTE])
    for label, path in common.pginit_builds():
        if "static" in label:
            size = stripped_size(path)
            section.goals.append(("static, stripped, with TLS ≤ 6 MB", size <= 6e6, f"{size / 1e6:.2f} MB"))
            section.goals.append(("stretch: ≤ 4 MB", size <= 4e6, f"{size / 1e6:.2f} MB"))
    return section


ARCHITECTURES = ["amd64", "arm64", "s390x", "armhf", "ppc64el"]


def architectures():
    """Sizes of the static builds of every architecture (scripts/build-static ARCH). Their speed under
    qemu-user says nothing about a real arm64 or s390x machine, so none is reported."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    from elf import HOST as host, architecture  # the ELF header says what each file really is
    rows, goals = [], []
    for arch in ARCHITECTURES:
        path = os.path.join(ROOT, "build-static" if arch == host else f"build-static-{arch}", "pginit")
        if not os.path.exists(path):
            rows.append([arch, "not built", "", ""])
            continue
        size = os.path.getsize(path)  # linked with -s: already stripped
        rows.append([arch, f"{size / 1e6:.2f} MB", f"{size:,} B", architecture(path)])
        goals.append((f"{arch}: static, stripped, with TLS ≤ 6 MB", size <= 6e6, f"{size / 1e6:.2f} MB"))
        goals.append((f"{arch}: stretch: ≤ 4 MB", size <= 4e6, f"{size / 1e6:.2f} MB"))
    section = Section("architectures", "7b. The static binary per architecture (cross-built with Debian's g++)",
                      common.table(["architecture", "size", "bytes", "ELF machine"], rows),
                      notes=["Sizes only: the foreign builds run here under qemu-user, whose times are not "
                             "those of an arm64 or s390x machine."])
    section.goals.extend(goals)
    return section
