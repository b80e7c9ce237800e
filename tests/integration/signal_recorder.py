"""A child that records every signal it receives, one name per line, and exits 0 on the last one.

The signals stay blocked and are taken with sigwaitinfo: a handler plus signal.pause() can lose the
wake-up of a signal that lands between the handler's return and the pause, and the test would then
wait for a line that never comes."""
import signal
import sys

log_path, last = sys.argv[1], sys.argv[2]
NAMES = ["HUP", "INT", "QUIT", "USR1", "USR2", "WINCH", "ALRM", "CONT", "TERM", "URG", "TSTP", "TTIN", "TTOU", "PIPE"]
RECORDED = {getattr(signal, "SIG" + name) for name in NAMES}

signal.pthread_sigmask(signal.SIG_BLOCK, RECORDED)
with open(log_path, "a") as log:
    log.write("ready\n")
while True:
    name = signal.Signals(signal.sigwaitinfo(RECORDED).si_signo).name[3:]
    with open(log_path, "a") as log:
        log.write(name + "\n")
    if name == last:
        sys.exit(0)
