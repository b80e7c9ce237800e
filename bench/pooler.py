"""Figure 12: through PgBouncer (transaction and session pooling, a pool smaller than the herd). A herd of
replicas applying migrations (files applied twice, exit codes, advisory locks left behind), and the wait while PgBouncer's server is down
(login attempts a second per replica, and the ready lag once the server returns, against PgBouncer's own
server_login_retry). pginit's static build and the build of a commit before issue 25 (the pooled lease) when
one is given (PGINIT_BEFORE=path) are measured in the same run."""
import collections
import os
import subprocess
import tempfile
import time

import common
from common import PSQL, Section, table
from pgbouncer import PgBouncer
from pgserver import APP_PASSWORD, PgServer

LOGIN_RETRY = 5  # PgBouncer's server_login_retry in the wait figure, seconds (its default is 15)


def herd_files(directory, count):
    os.makedirs(directory)
    with open(os.path.join(directory, "0001_log.sql"), "w") as f:
        f.write("CREATE TABLE applied_log (version int);\nINSERT INTO applied_log VALUES (1);\n")
    for version in range(2, count + 1):
        with open(os.path.join(directory, f"{version:04d}_t{version}.sql"), "w") as f:
            if version % 5 == 0:
                f.write(f"-- pginit:no-transaction\nCREATE TABLE t{version} (id int);\n"
                        f"CREATE INDEX CONCURRENTLY t{version}_id ON t{version} (id);\n"
                        f"INSERT INTO applied_log VALUES ({version});\n")
            else:
                f.write(f"CREATE TABLE t{version} (id int);\nINSERT INTO applied_log VALUES ({version});\n")


def advisory_locks(server, db):
    return int(server.psql("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                           f"WHERE l.locktype = 'advisory' AND d.datname = '{db}'"))


# A build that deadlocks (the one before issue 25, in session pooling) waits forever: its replicas are
# killed after this long and counted as "killed".
HERD_LIMIT = 180


def finish_within(proc, deadline):
    try:
        return proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return "killed"


def herd_row(label, pginit, server, directory, replicas, files, mode):
    db = server.new_database()
    bouncer = PgBouncer(server, {db: (db, mode)}, pool_size=3)
    bouncer.start()
    try:
        started = time.monotonic()
        procs = [subprocess.Popen([pginit, "--dsn", bouncer.dsn(db), "--migrations", directory, "--migrate-timeout",
                                   "120s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(replicas)]
        codes = collections.Counter(finish_within(proc, started + HERD_LIMIT) for proc in procs)
        elapsed = time.monotonic() - started
        logged = server.psql("SELECT to_regclass('applied_log') IS NOT NULL", db=db) == "t"  # none applied: no table
        counts = server.psql("SELECT count(DISTINCT version), count(*) - count(DISTINCT version) FROM applied_log",
                             db=db) if logged else "0|0"
        applied, twice = (int(n) for n in counts.split("|"))
        time.sleep(1)
        locks = advisory_locks(server, db)
    finally:
        bouncer.destroy()
    exits = ", ".join(f"{code}: {n}" for code, n in sorted(codes.items(), key=str))
    return [label, mode, replicas, files, exits, applied, twice, locks, f"{elapsed:.2f}"], codes, twice, locks


def wait_row(label, pginit, replicas):
    """The server goes down after the pool has served (as in production); `replicas` pginit wait through
    PgBouncer; the server comes back after a while."""
    server = PgServer()
    server.start()
    try:
        db = server.new_database()
        bouncer = PgBouncer(server, {db: (db, "transaction")}, settings={"server_login_retry": LOGIN_RETRY})
        bouncer.start()
        try:
            env = dict(os.environ, PGPASSWORD=APP_PASSWORD)
            subprocess.run([PSQL, "-X", "-q", "-h", "127.0.0.1", "-p", str(bouncer.port), "-U", "app", "-d", db, "-c",
                            "SELECT 1"], env=env, check=True, stdout=subprocess.DEVNULL)
            server.stop()
            procs = [subprocess.Popen([pginit, "--dsn", bouncer.dsn(db), "--timeout", "120s", "--", "true"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(replicas)]
            time.sleep(1)
            before, measured = bouncer.login_attempts(db), common.trials(6, quick=2)
            time.sleep(measured)
            rate = (bouncer.login_attempts(db) - before) / measured / replicas
            back = time.monotonic()
            server.start()
            for proc in procs:
                proc.wait()
            lag = time.monotonic() - back
        finally:
            bouncer.destroy()
    finally:
        server.destroy()
    return [label, replicas, f"{rate:.1f}", f"{lag:.2f}", LOGIN_RETRY], rate, lag


def run(server, directory):
    builds = [common.pginit_builds()[0]]
    if before := common.earlier_build("PGINIT_BEFORE"):
        builds.append(("pginit before issue 25", before))
    replicas, files = common.trials(10, quick=3), common.trials(50, quick=10)
    migrations = os.path.join(directory, "pooler")
    herd_files(migrations, files)
    section = Section("pooler", "12. Through PgBouncer (transaction and session pooling, default_pool_size = 3)", "")
    herd_rows, wait_rows = [], []
    for label, binary in builds:
        for mode in ("transaction", "session"):
            row, codes, twice, locks = herd_row(label, binary, server, migrations, replicas, files, mode)
            herd_rows.append(row)
            if label == builds[0][0]:
                section.goals.append((f"{mode} pooling: every replica exits 0, no file applied twice, no advisory "
                                      "lock left", set(codes) == {0} and twice == 0 and locks == 0,
                                      f"exits {dict(codes)}, {twice} twice, {locks} locks left"))
        row, rate, lag = wait_row(label, binary, common.trials(3, quick=2))
        wait_rows.append(row)
        if label == builds[0][0]:
            section.goals.append(("≤ 2 login attempts a second per replica while the server is down", rate <= 2.0,
                                  f"{rate:.1f}"))
            section.goals.append((f"ready within server_login_retry ({LOGIN_RETRY} s) + 1 s of the server's return",
                                  lag <= LOGIN_RETRY + 1, f"{lag:.2f} s"))
    section.table = "\n\n".join([
        table(["build", "pool mode", "replicas", "files", "exit codes (code: replicas)", "files applied",
               "files applied twice",
               "advisory locks left 1 s after", "last replica done, s"], herd_rows),
        table(["build", "replicas waiting", "login attempts/s per replica while down",
               "ready lag after the server returns, s", "server_login_retry, s"], wait_rows)])
    section.notes.append("PgBouncer accepts the login itself and answers 08P01 \"server login has been failing\" "
                         "for server_login_retry after a failed server login: pginit retries that at most twice a "
                         "second, so the ready lag is PgBouncer's own retry interval plus under a second.")
    return section
