#!/usr/bin/env python3
"""Ready lag: how long after Postgres says "ready to accept connections" each waiter lets the app
start. Postgres is started 1 to 2 s (at random, so that no poll loop is in phase with it) after
the waiter, TRIALS times per waiter; the accept time comes
from the server log (log_line_prefix %m), the waiter's end from the wall clock."""
import datetime
import os
import random
import subprocess
import time

from common import PGINIT, PgServer, SUPERUSER_PASSWORD, median_ms, print_table

TRIALS = int(os.environ.get("TRIALS", "8"))


def waiters(port):
    env_dsn = f"postgres://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{port}/postgres"
    return {
        "pginit": [PGINIT, "--quiet", "--dsn", env_dsn, "--timeout", "60s"],
        "pg_isready loop (sleep 1)": ["sh", "-c", f"until pg_isready -q -h 127.0.0.1 -p {port}; do sleep 1; done"],
        "psql loop (sleep 1, the seed's wait_for_db)": [
            "sh", "-c", f"until PGPASSWORD={SUPERUSER_PASSWORD} psql -h 127.0.0.1 -p {port} -U postgres -c 'select 1' "
                        ">/dev/null 2>&1; do sleep 1; done"],
        "wait-for-it (TCP only)": ["wait-for-it", "-q", "-t", "60", f"127.0.0.1:{port}"],
    }


def accept_time(log_path):
    for line in reversed(open(log_path).read().splitlines()):
        if "database system is ready to accept connections" in line:
            stamp = " ".join(line.split()[:2])  # "2026-11-25 21:00:00.123"
            zone = line.split()[2]
            parsed = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f")
            if zone == "UTC":
                parsed = parsed.replace(tzinfo=datetime.timezone.utc)
            return parsed.timestamp()
    raise RuntimeError("no ready line in the server log")


def main():
    server = PgServer(extra_conf="log_line_prefix = '%m '\nlog_timezone = 'UTC'\n")
    rows = []
    try:
        for name, argv in waiters(server.port).items():
            lags = []
            for _ in range(TRIALS):
                open(server.log, "w").close() if os.path.exists(server.log) else None
                waiter = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1.0 + random.random())
                server.start(wait=False)
                waiter.wait(timeout=60)
                done = time.time()
                server.wait_until_accepting()
                lags.append(done - accept_time(server.log))
                server.stop()
            rows.append([name, f"{median_ms(lags):.0f}", f"{min(lags) * 1000:.0f}", f"{max(lags) * 1000:.0f}"])
    finally:
        server.destroy()
    print_table(f"Ready lag in ms after Postgres accepts connections ({TRIALS} trials; negative = "
                "returned before Postgres was ready)", ["waiter", "median", "min", "max"], rows)


if __name__ == "__main__":
    main()
