"""Migrations and waiting through a real PgBouncer (Debian's 1.18) in transaction and session pooling
(issues 16 and 25): every file once across herds larger than the pool, whatever the pool's size (one
included) and mode; no advisory lock and no transaction left behind on a pooled server connection however
pginit ends; calm retries while PgBouncer's server is down."""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import finish, run_pginit, start_pginit
from pgbouncer import PGBOUNCER_VERSION, running_pgbouncer
from pgserver import APP_PASSWORD, PG_BIN, SERVER_VERSION, running_server
from test_faults import wait_until
from test_migrations import RECORDER, history, lock_holders, write_migrations


@pytest.fixture
def server():
    """The test's own server: some tests stop it, some give its database settings."""
    with running_server() as own:
        yield own


@pytest.fixture(scope="module")
def shared_server():
    """One server for the tests that only add databases to it."""
    with running_server() as own:
        yield own


def pooled(server, db, mode="transaction", **kwargs):
    return running_pgbouncer(server, {db: (db, mode)}, **kwargs)


def herd_files(count):
    """`count` files, every fifth a no-transaction file with a concurrent index: each records its
    version in applied_log, so that a second application shows as a second row (or fails)."""
    files = {"0001_log.sql": "CREATE TABLE applied_log (version int);\nINSERT INTO applied_log VALUES (1);\n"}
    for version in range(2, count + 1):
        if version % 5 == 0:
            files[f"{version:04d}_index_{version}.sql"] = (
                "-- pginit:no-transaction\n"
                f"CREATE TABLE t{version} (id int);\n"
                f"CREATE INDEX CONCURRENTLY t{version}_id ON t{version} (id);\n"
                f"INSERT INTO applied_log VALUES ({version});\n")
        else:
            files[f"{version:04d}_table_{version}.sql"] = (
                f"CREATE TABLE t{version} (id serial PRIMARY KEY, note text);\n"
                f"INSERT INTO t{version} (note) SELECT 'row ' || g FROM generate_series(1, 20) g;\n"
                f"INSERT INTO applied_log VALUES ({version});\n")
    return files


def each_applied_once(server, db, count):
    assert server.psql("SELECT count(*), count(DISTINCT version) FROM applied_log", db=db) == f"{count}|{count}"
    assert [int(row[0]) for row in history(server, db)] == list(range(1, count + 1))


def no_lock_left(server, db):
    """The pooler drops a server connection left in a transaction as soon as it sees its client go,
    and the backend then ends: allow it a moment, never minutes."""
    wait_until(lambda: lock_holders(server, db) == "0", timeout=5)


def lease_holders(server, db):
    """Rows of the lease table: through a pooler the lease is the migration lock."""
    return server.psql("SELECT count(*) FROM pginit_migrations_lease", db=db)


def test_a_herd_through_transaction_pooling_applies_every_file_and_the_command_once(server, tmp_path):
    db = server.new_database()
    files = 50
    migrations = write_migrations(tmp_path / "m", herd_files(files))
    (tmp_path / "app" / "migrations").mkdir(parents=True)
    (tmp_path / "app" / "migrations" / "0001_initial.py").write_text("# a django migration\n")
    script = tmp_path / "migrate.py"
    script.write_text(RECORDER)
    intervals = tmp_path / "intervals"
    with pooled(server, db, pool_size=3) as bouncer:
        args = ["--dsn", bouncer.dsn(db), "--migrations", str(migrations), "--migrate-timeout", "120s",
                "--migrate-cmd", f"/usr/bin/python3 {script} {intervals}", "--migrate-fingerprint",
                "*/migrations/*.py"]
        procs = [start_pginit(args, cwd=tmp_path) for _ in range(12)]
        results = [finish(proc, timeout=180) for proc in procs]
        for result in results:
            assert result.returncode == 0, result.stderr
            assert "error" not in result.stderr.lower(), result.stderr
        each_applied_once(server, db, files)
        assert len(intervals.read_text().splitlines()) == 1, "the migrate command ran more than once"
        appliers = [r for r in results if "applying migration" in r.stderr]
        assert len(appliers) == 1
        told = appliers[0].stderr.count("the migrations go through a connection pooler")
        assert told == 1, appliers[0].stderr
        assert "lock_kind=lease" in appliers[0].stderr
        no_lock_left(server, db)
        # The next deploy is not blocked by anything the herd left behind.
        more = write_migrations(tmp_path / "m", {f"{files + 1:04d}_next.sql": "INSERT INTO applied_log VALUES (51);\n"})
        nxt = run_pginit(["--dsn", bouncer.dsn(db), "--migrations", str(more), "--migrate-timeout", "5s"])
        assert nxt.returncode == 0, nxt.stderr
        each_applied_once(server, db, files + 1)


# The whole matrix on the default server and PgBouncer (15, 1.18); on the others of the server matrix
# (PGINIT_SERVER_VERSION, PGINIT_PGBOUNCER) its corners: the smallest pool with the largest herd, each mode.
FULL_MATRIX = SERVER_VERSION == "15" and PGBOUNCER_VERSION == "1.18"


def matrix(values, corner):
    return values if FULL_MATRIX else [corner]


@pytest.mark.parametrize("herd_factor", matrix([2, 5], 5))
@pytest.mark.parametrize("pool_size", matrix([1, 2, 3], 1))
@pytest.mark.parametrize("mode", ["session", "transaction"])
def test_any_pool_any_herd_applies_every_file_once_and_every_replica_starts(shared_server, tmp_path, mode, pool_size,
                                                                          herd_factor):
    """Herds of 2x and 5x the pool, in both pool modes, a pool of one included: a replica never holds a
    server connection while it waits for another (the lease needs none while waited for, and a waiter
    keeps no connection between its looks), so nobody waits for --timeout. The migrate command connects
    through the same pool."""
    server, files, replicas = shared_server, 22, pool_size * herd_factor
    db = server.new_database()
    migrations = write_migrations(tmp_path / "m", herd_files(files))
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text("# the app's schema\n")
    ran = tmp_path / "command-ran"
    with pooled(server, db, mode=mode, pool_size=pool_size) as bouncer:
        command = (f"{PG_BIN}/psql -X -q -At -c \"SELECT pg_sleep(0.2)\" {bouncer.dsn(db)} && "
                   f"echo ran >> {ran}")
        args = ["--dsn", bouncer.dsn(db), "--migrations", str(migrations), "--timeout", "60s",
                "--migrate-cmd", f"sh -c '{command}'", "--migrate-fingerprint", "app/*.py", "--", "true"]
        started = time.monotonic()
        procs = [start_pginit(args, cwd=tmp_path) for _ in range(replicas)]
        ended = {}
        while len(ended) < len(procs):
            for index, proc in enumerate(procs):
                if index not in ended and proc.poll() is not None:
                    ended[index] = time.monotonic() - started
            time.sleep(0.01)
        results = [finish(proc, timeout=5) for proc in procs]
        logins = bouncer.login_attempts(db)
    assert [r.returncode for r in results] == [0] * replicas, [r.stderr[-800:] for r in results if r.returncode]
    each_applied_once(server, db, files)
    assert ran.read_text().splitlines() == ["ran"], "the migrate command ran more than once"
    appliers = [index for index, r in enumerate(results) if "applying migration" in r.stderr]
    assert len(appliers) == 1
    # The files' own time, plus a few seconds: a waiter looks again within two.
    last, applier_done = max(ended.values()), ended[appliers[0]]
    assert last <= applier_done + 3.5, f"the last app started {last - applier_done:.1f}s after the migrations"
    print(f"\n{mode} pooling, default_pool_size {pool_size}, {replicas} replicas: exits 0 x{replicas}, "
          f"migrations done at {applier_done:.2f}s, last app at {last:.2f}s, {files} files once, "
          f"{logins} logins to PgBouncer")


SLOW_FILE = "CREATE TABLE slow (x int);\nSELECT pg_sleep(12);\n"


@pytest.mark.parametrize("ending", ["exit 65", "SIGTERM", "SIGKILL", "SIGKILL in a no-transaction file"])
def test_no_advisory_lock_is_left_on_a_pooled_connection_however_pginit_ends(server, tmp_path, ending):
    db = server.new_database()
    if ending == "exit 65":
        files = {"0001_ok.sql": "CREATE TABLE ok (x int);\n", "0002_bad.sql": "SELECT no_such_function();\n"}
    elif ending == "SIGKILL in a no-transaction file":
        files = {"0001_slow.sql": "-- pginit:no-transaction\nCREATE TABLE slow (x int);\nSELECT pg_sleep(12);\n"}
    else:
        files = {"0001_slow.sql": SLOW_FILE}
    migrations = write_migrations(tmp_path / "m", files)
    with pooled(server, db) as bouncer:
        proc = start_pginit(["--dsn", bouncer.dsn(db), "--migrations", str(migrations)])
        if ending == "exit 65":
            assert finish(proc, timeout=60).returncode == 65
        else:
            wait_until(lambda: server.psql("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                                           "AND query LIKE 'SELECT pg_sleep%'") == "1")
            proc.send_signal(signal.SIGKILL if "SIGKILL" in ending else signal.SIGTERM)
            code = finish(proc, timeout=10).returncode
            assert code == (-9 if "SIGKILL" in ending else 143)
        no_lock_left(server, db)
        # A killed pginit leaves its lease: the next deploy waits for it about its period, 10 s. On 13 the
        # killed pginit's statement runs on to its end (12 s) first: nothing ends it earlier there.
        quick = write_migrations(tmp_path / "quick", {"9001_quick.sql": "CREATE TABLE quick (x int);\n"})
        limit = "15s" if int(server.version) >= 14 else "40s"
        nxt = run_pginit(["--dsn", bouncer.dsn(db), "--migrations", str(quick), "--migrate-timeout", limit])
        assert nxt.returncode == 0, nxt.stderr
        no_lock_left(server, db)


def test_the_lock_outlives_the_servers_idle_in_transaction_timeout(server, tmp_path):
    """The lock's transaction sits idle while the files run on another connection: the server's
    idle_in_transaction_session_timeout must not end it (and the lock) half-way."""
    db = server.new_database()
    server.psql(f"ALTER DATABASE {db} SET idle_in_transaction_session_timeout = '300ms'")
    migrations = write_migrations(tmp_path / "m", {
        "0001_log.sql": "CREATE TABLE applied_log (version int);\nINSERT INTO applied_log VALUES (1);\n",
        "0002_slow.sql": "SELECT pg_sleep(1.5);\nINSERT INTO applied_log VALUES (2);\n",
        "0003_slow.sql": "-- pginit:no-transaction\nSELECT pg_sleep(1.5);\nINSERT INTO applied_log VALUES (3);\n",
    })
    with pooled(server, db) as bouncer:
        procs = [start_pginit(["--dsn", bouncer.dsn(db), "--migrations", str(migrations), "--migrate-timeout", "60s"])
                 for _ in range(3)]
        results = [finish(proc, timeout=60) for proc in procs]
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    assert sum("applying migration" in r.stderr for r in results) == 1
    each_applied_once(server, db, 3)


def test_the_lease_is_renewed_during_a_long_file_and_taken_over_when_its_holder_goes_silent(server, tmp_path):
    """A file longer than a renewal period keeps the lease (renewed every 3.3 s); a holder that stops
    talking (SIGSTOP: the pooler sees no disconnect) is taken over once its file's transaction, idle
    when its statements are done, has been ended by the server (10 s) and its lease has been seen
    unchanged for a period (10 s): not after the pooler's keepalive notices (hours). The file it was in
    is applied once, by the next replica."""
    db = server.new_database()
    long_file = write_migrations(tmp_path / "long", {"0001_long.sql": "SELECT pg_sleep(12);\n"})
    with pooled(server, db) as bouncer:
        renewed = run_pginit(["--dsn", bouncer.dsn(db), "--migrations", str(long_file)], timeout=60)
        assert renewed.returncode == 0, renewed.stderr
        slow = write_migrations(tmp_path / "slow", {"0002_slow.sql": "CREATE TABLE slow (x int);\nSELECT pg_sleep(3);\n"})
        holder = start_pginit(["--dsn", bouncer.dsn(db), "--migrations", str(slow)])
        try:
            wait_until(lambda: server.psql("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                                           "AND query LIKE 'SELECT pg_sleep(3)%'") == "1")
            holder.send_signal(signal.SIGSTOP)
            started = time.monotonic()
            # Nothing pginit opened outlives it on the server: its file's transaction, idle once the
            # statements are done, ends within its idle limit although PgBouncer keeps the client.
            in_transaction = (f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' "
                              "AND state LIKE 'idle in transaction%'")
            wait_until(lambda: server.psql(in_transaction) == "1", timeout=10)
            wait_until(lambda: server.psql(in_transaction) == "0", timeout=15)
            ended = time.monotonic() - started
            nxt = run_pginit(["--dsn", bouncer.dsn(db), "--migrations", str(slow), "--migrate-timeout", "50s"],
                             timeout=70)
            waited = time.monotonic() - started
        finally:
            holder.kill()
            holder.communicate()
        assert nxt.returncode == 0, nxt.stderr
        assert "applied migration 0002_slow.sql" in nxt.stderr
        assert [row[1] for row in history(server, db)] == ["long", "slow"]
        print(f"a silent holder's transaction ended after {ended:.1f} s, its lease was taken over after {waited:.1f} s")


def test_concurrent_indexes_through_the_pooler_while_another_replica_waits(server, tmp_path):
    """The holder's open lock transaction and the waiters' polls hold no snapshot between
    statements: CREATE INDEX CONCURRENTLY does not wait for them."""
    db = server.new_database()
    migrations = write_migrations(tmp_path / "m", {
        "0001_table.sql": "CREATE TABLE items (id int, name text);\n"
                          "INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 10000) g;\n"
                          "SELECT pg_sleep(1);\n",
        "0002_indexes.sql": "-- pginit:no-transaction\nCREATE INDEX CONCURRENTLY items_id ON items (id);\n"
                            "CREATE INDEX CONCURRENTLY items_name ON items (name);\n",
    })
    with pooled(server, db) as bouncer:
        args = ["--dsn", bouncer.dsn(db), "--migrations", str(migrations), "--migrate-timeout", "30s"]
        first = start_pginit(args)
        wait_until(lambda: server.psql("SELECT to_regclass('pginit_migrations_lease') IS NOT NULL", db=db) == "t"
                   and lease_holders(server, db) == "1", interval=0.02)
        waiter = start_pginit(args)
        first_result, waiter_result = finish(first, timeout=60), finish(waiter, timeout=60)
    assert first_result.returncode == 0, first_result.stderr
    assert waiter_result.returncode == 0, waiter_result.stderr
    assert server.psql("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                       "WHERE c.relname IN ('items_id', 'items_name') AND i.indisvalid", db=db) == "2"


def test_session_state_in_a_no_transaction_file_is_refused_before_anything_is_applied(server, tmp_path):
    db = server.new_database()
    migrations = write_migrations(tmp_path / "m", {
        "0001_fine.sql": "SET search_path = public;\nCREATE TABLE fine (x int);\n",
        "0002_notx.sql": "-- pginit:no-transaction\nSET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY f ON fine (x);\n",
    })
    with pooled(server, db) as bouncer:
        result = run_pginit(["--dsn", bouncer.dsn(db), "--migrations", str(migrations)])
        assert result.returncode == 78, result.stderr
        assert ("migration 0002_notx.sql line 2 cannot run through the connection pooler: in a no-transaction file "
                "each statement may run on another server connection") in result.stderr
        assert "--migrate-dsn" in result.stderr
        assert server.psql("SELECT to_regclass('fine') IS NULL", db=db) == "t"
        no_lock_left(server, db)
        # The same files over a direct --migrate-dsn are fine.
        direct = run_pginit(["--dsn", bouncer.dsn(db), "--migrate-dsn", server.dsn(db=db),
                             "--migrations", str(migrations)])
        assert direct.returncode == 0, direct.stderr
    assert len(history(server, db)) == 2


def test_a_pooled_file_resets_its_session_settings_on_its_own_server_connection(server, tmp_path):
    """pg_dump's SET search_path = '' inside a transactional file must not reach the pool's next client."""
    db = server.new_database()
    migrations = write_migrations(tmp_path / "m", {
        "0001_dump.sql": "SET search_path = '';\nSET statement_timeout = '1234ms';\nCREATE TABLE public.d (x int);\n",
    })
    with pooled(server, db, pool_size=2) as bouncer:
        assert run_pginit(["--dsn", bouncer.dsn(db), "--migrations", str(migrations)]).returncode == 0
        # Two clients in open transactions hold both server connections of the pool at once.
        sessions = [subprocess.Popen([f"{PG_BIN}/psql", "-X", "-At", "-h", "127.0.0.1", "-p", str(bouncer.port),
                                      "-U", "app", "-d", db], env=dict(os.environ, PGPASSWORD=APP_PASSWORD),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
                    for _ in range(2)]
        try:
            for session in sessions:
                session.stdin.write("BEGIN;\nSELECT pg_backend_pid(), current_setting('statement_timeout'), "
                                    "current_setting('search_path');\n")
                assert session.stdout.readline().strip() == "BEGIN"
            seen = [session.stdout.readline().strip().split("|") for session in sessions]
        finally:
            for session in sessions:
                session.kill()
        assert len({pid for pid, _, _ in seen}) == 2, seen
        assert all(settings == ["0", '"$user", public'] for _, *settings in seen), seen


def test_statement_pooling_is_refused_at_once_since_a_file_is_a_transaction(server, tmp_path):
    db = server.new_database()
    migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x int);\n"})
    with pooled(server, db, mode="statement") as bouncer:
        result = run_pginit(["--dsn", bouncer.dsn(db), "--migrations", str(migrations)])
    assert result.returncode == 78, result.stderr
    assert ("refused a transaction (transaction blocks not allowed in statement pooling mode): a migration file is "
            "one, so the migrations need transaction or session pooling") in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith("(exit 78)")
    assert server.psql("SELECT to_regclass('a') IS NULL", db=db) == "t"


def test_a_file_whose_pooled_transaction_cannot_open_says_why_in_one_line(server, tmp_path):
    """A DBA made the role's transactions read-only: pginit's own bookkeeping (the lease, the tables) is
    immune, but the file's transaction is the user's, and its opening fails: one line with the cause."""
    db = server.new_database()
    server.psql(f"ALTER ROLE app IN DATABASE {db} SET default_transaction_read_only = on")
    migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x int);\n"})
    with pooled(server, db) as bouncer:
        result = run_pginit(["--dsn", bouncer.dsn(db), "--migrations", str(migrations)])
        assert result.returncode == 65, result.stderr
        errors = [line for line in result.stderr.splitlines() if "(exit 65)" in line]
        assert len(errors) == 1, result.stderr
        assert errors[0].startswith("pginit: migration 0001_a.sql could not open its transaction through the pooler: "
                                    "cannot execute UPDATE in a read-only transaction [SQLSTATE 25006] (exit 65)")
        assert lease_holders(server, db) == "0", "the lease is given back"
        no_lock_left(server, db)


def test_waiting_for_a_busy_lease_costs_at_most_one_login_a_second(server, tmp_path):
    """The holder is SIGKILLed in a no-transaction file: its lease stays until it is seen unchanged for a
    period, and the waiters, which keep no connection between their looks, log in at most once a second
    each meanwhile (PgBouncer's log counts them)."""
    db = server.new_database()
    files = {"0001_slow.sql": "-- pginit:no-transaction\nCREATE TABLE IF NOT EXISTS slow (x int);\n"
                              "SELECT pg_sleep(30) WHERE NOT EXISTS (SELECT FROM slow);\nINSERT INTO slow VALUES (1);\n"}
    migrations = write_migrations(tmp_path / "m", files)
    with pooled(server, db) as bouncer:
        holder = start_pginit(["--dsn", bouncer.dsn(db), "--migrations", str(migrations)])
        wait_until(lambda: server.psql("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                                       "AND query LIKE 'SELECT pg_sleep(30)%'") == "1")
        holder.kill()
        holder.communicate()
        server.psql("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'")
        server.psql("INSERT INTO slow VALUES (0)", db=db)  # the rerun's sleep is skipped
        waiters = [start_pginit(["--dsn", bouncer.dsn(db), "--migrations", str(migrations), "--migrate-timeout",
                                 "40s"]) for _ in range(3)]
        time.sleep(1)
        before, started = bouncer.login_attempts(db), time.monotonic()
        time.sleep(6)
        rate = (bouncer.login_attempts(db) - before) / (time.monotonic() - started) / len(waiters)
        results = [finish(waiter, timeout=60) for waiter in waiters]
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    assert rate <= 1.0, f"{rate:.2f} logins a second per waiting replica"
    print(f"\nwhile the lease was busy: {rate:.2f} logins a second per waiting replica")


# --- waiting through the pooler -------------------------------------------------------------------

def attempts_per_second(bouncer, db, seconds):
    before = bouncer.login_attempts(db)
    time.sleep(seconds)
    return (bouncer.login_attempts(db) - before) / seconds


def test_while_the_server_is_down_pginit_tries_the_pooler_at_most_twice_a_second(server, tmp_path):
    db = server.new_database()
    with pooled(server, db, settings={"server_login_retry": 2}) as bouncer:
        # The pool has served before, as in production: PgBouncer then accepts logins itself.
        assert run_pginit(["--dsn", bouncer.dsn(db), "--check"]).returncode == 0
        server.stop()
        check = run_pginit(["--dsn", bouncer.dsn(db), "--check", "--connect-timeout", "3s"])
        assert check.returncode == 69, check.stderr
        procs = [start_pginit(["--dsn", bouncer.dsn(db), "--timeout", "60s", "--log-level", "debug", "--",
                               "true"]) for _ in range(3)]
        time.sleep(1)
        rate = attempts_per_second(bouncer, db, 4) / 3
        assert rate <= 2.0, f"{rate:.1f} attempts a second per replica"
        started = time.monotonic()
        server.start()
        results = [finish(proc, timeout=60) for proc in procs]
        lag = time.monotonic() - started
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "the pooler says: server login has been failing" in result.stderr
    print(f"ready lag after the server returned (server_login_retry = 2): {lag:.2f} s; {rate:.2f} attempts/s")


def test_a_database_the_pooler_does_not_know_is_78_at_once_and_a_wrong_password_77(server):
    db = server.new_database()
    with pooled(server, db) as bouncer:
        unknown = run_pginit(["--dsn", bouncer.dsn("no_such_db"), "--timeout", "30s", "--", "true"])
        assert unknown.returncode == 78, unknown.stderr
        assert "no such database" in unknown.stderr
        assert unknown.elapsed < 5
        wrong = run_pginit(["--dsn", bouncer.dsn(db, password="wrong"), "--timeout", "30s", "--", "true"])
        assert wrong.returncode == 77, wrong.stderr
        assert "authentication failed" in wrong.stderr
