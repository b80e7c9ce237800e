"""Settings a DBA may have put on the role or the database (issue 27), on every server of the matrix where
they exist: pginit's own bookkeeping (the lock, the lease, the history, the waiting) is immune to them,
directly and through PgBouncer; the migration files run under them, and a file a timeout ends is reported
as that timeout (SQLSTATE, the server's message, the setting's name) with exit 65, not run again as after
a lost connection; where the server sent a FATAL before it closed, its text is what the user sees."""

import pytest

from conftest import finish, run_pginit, start_pginit
from pgbouncer import running_pgbouncer
from pgserver import SERVER_VERSION, running_server
from test_faults import wait_until
from test_migrations import RECORDER, history, lock_holder, psql_session, write_migrations

VERSION = int(SERVER_VERSION)
# Values a DBA may choose, short enough to end pginit's own work if it were not immune: an idle waiter
# (idle_session_timeout), a transaction between pginit's round trips (idle_in_transaction), the lock's and
# the lease's transactions (transaction_timeout), a bookkeeping statement that waits for a lock.
SETTINGS = {
    "statement_timeout": ("'2s'", 0),
    "lock_timeout": ("'2s'", 0),
    "idle_in_transaction_session_timeout": ("'200ms'", 0),
    "idle_session_timeout": ("'300ms'", 14),
    "transaction_timeout": ("'2s'", 17),
    "default_transaction_isolation": ("'serializable'", 0),
    "search_path": ("'pg_temp, \"$user\", public'", 0),
    "client_min_messages": ("'error'", 0),
}


@pytest.fixture(scope="module")
def server():
    with running_server() as own:
        yield own


def files():
    """Transactional and no-transaction files, each recording itself once; the migrate command (0.5 s
    and more: an idle lock holder's session, for idle_session_timeout) runs after them."""
    return {
        "0001_log.sql": "CREATE TABLE public.applied_log (version int);\nINSERT INTO public.applied_log VALUES (1);\n",
        "0002_t.sql": "CREATE TABLE public.t2 (id int);\nINSERT INTO public.applied_log VALUES (2);\n",
        "0003_index.sql": "-- pginit:no-transaction\nCREATE INDEX CONCURRENTLY t2_id ON public.t2 (id);\n"
                          "INSERT INTO public.applied_log VALUES (3);\n",
        "0004_t.sql": "SELECT pg_sleep(0.4);\nINSERT INTO public.applied_log VALUES (4);\n",
    }


def herd(dsn, tmp_path, replicas=4):
    migrations = write_migrations(tmp_path / "m", files())
    script = tmp_path / "migrate.py"
    script.write_text(RECORDER)
    args = ["--dsn", dsn, "--migrations", str(migrations), "--migrate-timeout", "60s",
            "--migrate-cmd", f"/usr/bin/python3 {script} {tmp_path / 'ran'}", "--", "true"]
    return [finish(proc, timeout=90) for proc in [start_pginit(args) for _ in range(replicas)]]


# On the role (in the database) directly, on the database through PgBouncer: both places, both topologies.
@pytest.mark.parametrize("where,topology", [("role", "direct"), ("database", "pgbouncer")])
@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_pginits_own_work_is_immune_to_the_setting(server, tmp_path, setting, where, topology):
    value, since = SETTINGS[setting]
    if VERSION < since:
        pytest.skip(f"{setting} is in PostgreSQL {since} and later, this is {VERSION}")
    db = server.new_database()
    target = f"ROLE app IN DATABASE {db}" if where == "role" else f"DATABASE {db}"
    server.psql(f"ALTER {target} SET {setting} = {value}")
    if topology == "direct":
        results = herd(server.dsn(db=db), tmp_path)
    else:
        with running_pgbouncer(server, {db: (db, "transaction")}, pool_size=2) as bouncer:
            results = herd(bouncer.dsn(db), tmp_path)
    assert [r.returncode for r in results] == [0] * len(results), [r.stderr[-1200:] for r in results if r.returncode]
    assert server.psql("SELECT count(*), count(DISTINCT version) FROM public.applied_log", db=db) == "4|4"
    assert [row[0] for row in history(server, db)] == ["1", "2", "3", "4"]
    assert len((tmp_path / "ran").read_text().splitlines()) == len(results), "the command ran once per replica, in turn"
    assert not any("lost the connection" in r.stderr for r in results), [r.stderr for r in results]


@pytest.mark.parametrize("where,topology", [("role", "direct"), ("database", "pgbouncer")])
def test_a_read_only_default_leaves_pginits_own_work_alone_and_the_files_to_the_user(server, tmp_path, where,
                                                                                    topology):
    """default_transaction_read_only = on: the lock, the lease, the history and a fingerprinted migrate command
    go through (pginit's own transactions are READ WRITE); a file's transaction is the user's, so the file
    cannot apply: 65 with the server's words (directly at its CREATE TABLE, through a pooler at the lease's
    fence that opens its transaction), once, and nothing of it stays."""
    db = server.new_database()
    target = f"ROLE app IN DATABASE {db}" if where == "role" else f"DATABASE {db}"
    server.psql(f"ALTER {target} SET default_transaction_read_only = on")
    script = tmp_path / "migrate.py"
    script.write_text(RECORDER)
    (tmp_path / "app.py").write_text("1")
    command_only = ["--migrate-cmd", f"/usr/bin/python3 {script} {tmp_path / 'ran'}", "--migrate-fingerprint",
                    str(tmp_path / "app.py"), "--migrate-timeout", "60s", "--", "true"]
    migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE public.a (x int);\n"})

    def run(dsn):
        commands = [finish(proc, timeout=90) for proc in [start_pginit(["--dsn", dsn, *command_only])
                                                          for _ in range(3)]]
        return commands, run_pginit(["--dsn", dsn, "--migrations", str(migrations), "--", "true"])
    if topology == "direct":
        commands, file = run(server.dsn(db=db))
    else:
        with running_pgbouncer(server, {db: (db, "transaction")}, pool_size=2) as bouncer:
            commands, file = run(bouncer.dsn(db))
    assert [r.returncode for r in commands] == [0, 0, 0], [r.stderr[-1200:] for r in commands if r.returncode]
    assert len((tmp_path / "ran").read_text().splitlines()) == 1, "the fingerprint was stored: one run of three"
    assert file.returncode == 65, file.stderr
    errors = [line for line in file.stderr.splitlines() if "(exit 65)" in line]
    statement = "CREATE TABLE" if topology == "direct" else "UPDATE"
    assert len(errors) == 1 and f"cannot execute {statement} in a read-only transaction" in errors[0], file.stderr
    assert "0001_a.sql" in errors[0]
    assert file.stderr.count("applying migration 0001_a.sql") == 1
    assert server.psql("SELECT to_regclass('public.a') IS NULL", db=db) == "t"


@pytest.mark.parametrize("topology", ["direct", "pgbouncer"])
@pytest.mark.parametrize("setting,since,state", [("statement_timeout", 0, "57014"),
                                                 ("transaction_timeout", 17, "25P04")])
def test_a_file_a_timeout_ends_is_65_naming_the_setting_and_is_not_run_again(server, tmp_path, setting, since, state,
                                                                             topology):
    if VERSION < since:
        pytest.skip(f"{setting} is in PostgreSQL {since} and later, this is {VERSION}")
    db = server.new_database()
    server.psql(f"ALTER DATABASE {db} SET {setting} = '1s'")
    migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x int);\n",
                                                   "0002_slow.sql": "SELECT pg_sleep(3);\n"})

    def migrate(dsn):
        return run_pginit(["--dsn", dsn, "--migrations", str(migrations), "--", "true"])
    if topology == "direct":
        result = migrate(server.dsn(db=db))
    else:
        with running_pgbouncer(server, {db: (db, "transaction")}) as bouncer:
            result = migrate(bouncer.dsn(db))
    assert result.returncode == 65, result.stderr
    errors = [line for line in result.stderr.splitlines() if "(exit 65)" in line]
    assert len(errors) == 1, result.stderr
    assert f"migration 0002_slow.sql failed at line 1 (statement 1): " in errors[0]
    assert f"[SQLSTATE {state}]; the server's {setting} ended it" in errors[0]
    assert result.stderr.count("applying migration 0002_slow.sql") == 1, "run again as after a lost connection"
    assert [row[0] for row in history(server, db)] == ["1"]


def test_a_terminated_sessions_fatal_is_what_the_lost_connection_line_says(server, tmp_path):
    db = server.new_database()
    migrations = write_migrations(tmp_path / "m", {"0001_slow.sql": "SELECT pg_sleep(1.5);\n"})
    proc = start_pginit(["--dsn", server.dsn(db=db), "--migrations", str(migrations), "--", "true"])
    sleeping = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(1.5)%' AND state = 'active'"
    wait_until(lambda: server.psql(sleeping) == "1", interval=0.02)
    server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(1.5)%'")
    result = finish(proc, timeout=60)
    assert result.returncode == 0, result.stderr
    assert ("lost the connection to" in result.stderr and
            "during migrations (terminating connection due to administrator command)" in result.stderr), result.stderr
    assert [row[0] for row in history(server, db)] == ["1"]


@pytest.mark.skipif(VERSION < 16, reason=f"reserved_connections is in PostgreSQL 16 and later, this is {VERSION}")
def test_spare_connections_count_the_slots_reserved_connections_keeps(tmp_path):
    """max_connections 20, 3 for superusers, 10 reserved (16+): an app role may use 7; a psql of the app holds
    the lock, so a waiter sees 7 - 1 - 1 = 5 slots free besides it, fewer than --spare-connections 6, and
    leaves its slot. Counted without reserved_connections it would see 15, and stay."""
    with running_server(extra_conf="max_connections = 20\nsuperuser_reserved_connections = 3\n"
                                   "reserved_connections = 10\nlog_disconnections = on\n") as small:
        db = small.new_database()
        migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x int);\n"})
        holder = lock_holder(small, db, 4343)

        def app_sessions_ended():
            return small.log_lines("disconnection:", "user=app")
        try:
            ended = app_sessions_ended()
            waiter = start_pginit(["--dsn", small.dsn(db=db), "--migrations", str(migrations), "--lock-key", "4343",
                                   "--spare-connections", "6", "--migrate-timeout", "30s", "--log-level", "debug"])
            # The waiter counts the free slots, then leaves its slot: its session's end is the sign (a look
            # at pg_stat_activity can miss a session that short on a busy machine).
            wait_until(lambda: app_sessions_ended() > ended, interval=0.05)
            holder.communicate("SELECT pg_advisory_unlock(4343);\n", timeout=10)
            result = finish(waiter, timeout=60)
        finally:
            holder.kill()
    assert result.returncode == 0, result.stderr
    assert "the migration lock is busy and the server nearly full: leaving the slot to others" in result.stderr
    assert "free_slots=5 spare_connections=6" in result.stderr, result.stderr
