"""A child that records every signal it receives, one name per line, and exits 0 on the last one."""
import signal
import sys

log_path, last = sys.argv[1], sys.argv[2]
NAMES = ["HUP", "INT", "QUIT", "USR1", "USR2", "WINCH", "ALRM", "CONT", "TERM", "URG", "TSTP", "TTIN", "TTOU", "PIPE"]


def record(signo, _frame):
    name = signal.Signals(signo).name[3:]
    with open(log_path, "a") as log:
        log.write(name + "\n")
    if name == last:
        sys.exit(0)


for name in NAMES:
    signal.signal(getattr(signal, "SIG" + name), record)
with open(log_path, "a") as log:
    log.write("ready\n")
while True:
    signal.pause()
