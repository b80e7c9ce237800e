"""Migrations exactly once across replicas (issue 5), against a real Postgres 15."""
import hashlib
import os
import signal
import subprocess
import textwrap
import time

import pytest

from conftest import APP_PASSWORD, finish, run_pginit, start_pginit
from elf import is_emulated
from pgserver import PG_BIN, PGINIT, SERVER_VERSION, running_server

LOCK_WAIT = ["--migrate-timeout", "60s"]


def write_migrations(directory, files):
    directory.mkdir(exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(textwrap.dedent(sql).lstrip())
    return directory


def twenty_migrations(server_version=None):
    """Twenty files of every kind; a function body in SQL-standard form (BEGIN ATOMIC) where the server
    has it (14+), in a dollar quote before."""
    files = {}
    standard_body = int(server_version or SERVER_VERSION) >= 14
    for i in range(1, 15):
        files[f"{i:04d}_table_{i}.sql"] = f"""
            CREATE TABLE t{i} (id serial PRIMARY KEY, note text DEFAULT 'semi;colon');
            INSERT INTO t{i} (note) VALUES ('row {i}'), ($q$dollar; quoted$q$);
            INSERT INTO applied_log (version) VALUES ({i});
        """
    files["0000_log.sql"] = "CREATE TABLE applied_log (version int);\n"
    files["0015_functions.sql"] = """
        CREATE FUNCTION add_one(x int) RETURNS int LANGUAGE plpgsql AS $$
        BEGIN
          RETURN x + 1; -- a comment; with a semicolon
        END;
        $$;
        CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql
        """ + ("""BEGIN ATOMIC
          SELECT x * 2;
        END;""" if standard_body else "AS $$ SELECT x * 2 $$;") + """
        INSERT INTO applied_log (version) VALUES (15);
    """
    files["0016_data.sql"] = """
        INSERT INTO t1 (note) SELECT 'bulk ' || g FROM generate_series(1, 1000) g;
        INSERT INTO applied_log (version) VALUES (16);
    """
    files["0017_view.sql"] = "CREATE VIEW t1_notes AS SELECT note FROM t1; INSERT INTO applied_log VALUES (17);\n"
    files["0018_concurrent_indexes.sql"] = """
        -- pginit:no-transaction
        CREATE INDEX CONCURRENTLY t1_note ON t1 (note);
        CREATE INDEX CONCURRENTLY t2_note ON t2 (note);
        CREATE FUNCTION semis() RETURNS text LANGUAGE sql AS $$ SELECT 'a;b;c' $$;
        INSERT INTO applied_log (version) VALUES (18);
    """
    files["0019_alter.sql"] = "ALTER TABLE t3 ADD COLUMN extra int; INSERT INTO applied_log VALUES (19);\n"
    return files


def history(pg, db, table="public.pginit_migrations"):
    rows = pg.psql(f"SELECT version, name, checksum FROM {table} ORDER BY version", db=db)
    return [tuple(row.split("|")) for row in rows.splitlines()]


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_applies_a_directory_once_and_a_rerun_is_a_no_op(pg, fresh_db, tmp_path):
    migrations = write_migrations(tmp_path / "migrations", twenty_migrations())
    result = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations)])
    assert result.returncode == 0, result.stderr
    rows = history(pg, fresh_db)
    expected = sorted(migrations.iterdir())
    assert len(rows) == len(expected) == 20
    for (version, name, checksum), path in zip(rows, expected):
        assert int(version) == int(path.name.split("_")[0])
        assert name == path.name.split("_", 1)[1][:-4]
        assert checksum == sha256(path)
    assert pg.psql("SELECT count(*) FROM applied_log", db=fresh_db) == "19"
    assert pg.psql("SELECT add_one(1), twice(4), semis()", db=fresh_db) == "2|8|a;b;c"
    assert pg.psql("SELECT count(*) FROM pg_index WHERE NOT indisvalid", db=fresh_db) == "0"
    assert pg.psql("SELECT count(*) FROM pg_indexes WHERE indexname IN ('t1_note', 't2_note')", db=fresh_db) == "2"

    again = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations)])
    assert again.returncode == 0
    assert "migrations are up to date" in again.stderr
    assert "acquired the migration lock" not in again.stderr  # the fast path needs no lock
    assert "applying" not in again.stderr
    assert history(pg, fresh_db) == rows


def test_a_failing_file_rolls_back_and_the_app_does_not_start(pg, fresh_db, tmp_path):
    migrations = write_migrations(tmp_path / "m", {
        "0001_ok.sql": "CREATE TABLE ok_table (x int);\n",
        "0002_bad.sql": """
            CREATE TABLE created_then_rolled_back (x int);
            INSERT INTO created_then_rolled_back VALUES (1);
            SELECT 1 /
              0;
        """,
        "0003_never.sql": "CREATE TABLE never (x int);\n",
    })
    marker = tmp_path / "app-ran"
    result = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations), "--", "touch", str(marker)])
    assert result.returncode == 65, result.stderr
    assert not marker.exists()
    assert "migration 0002_bad.sql failed at line 3 (statement 3): division by zero [SQLSTATE 22012] (exit 65)" in result.stderr
    assert pg.psql("SELECT to_regclass('created_then_rolled_back') IS NULL", db=fresh_db) == "t"
    assert pg.psql("SELECT to_regclass('never') IS NULL", db=fresh_db) == "t"
    assert [row[0] for row in history(pg, fresh_db)] == ["1"]


def test_a_syntax_error_reports_its_line_in_the_file(pg, fresh_db, tmp_path):
    migrations = write_migrations(tmp_path / "m", {"0001_typo.sql": "SELECT 1;\n\nSELECT\n  2,\n  FROM nowhere;\n"})
    result = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations)])
    assert result.returncode == 65
    assert "failed at line 5 (statement 2)" in result.stderr
    assert "SQLSTATE 42601" in result.stderr


def test_a_long_file_streams_its_statements_while_a_big_result_comes_back(pg, fresh_db, tmp_path):
    """A transactional file goes out as one pipeline: 50 MB of answers to one of its first
    statements come back while pginit still sends the 20 MB of statements after it, more than the
    sockets buffer. pginit must read while it sends (libpq: wait for read or write readiness)."""
    filler = "y" * 10000
    inserts = "".join(f"INSERT INTO numbers VALUES ({n}, '{filler}');\n" for n in range(2000))
    migrations = write_migrations(tmp_path / "m", {"0001_long.sql": (
        "CREATE TABLE numbers (n int, filler text);\n"
        "PREPARE twice(int) AS SELECT $1 * 2;\nEXECUTE twice(21);\nDEALLOCATE twice;\n"
        "SELECT repeat('x', 10000) FROM generate_series(1, 5000);\n" + inserts)})
    result = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations)], timeout=120)
    assert result.returncode == 0, result.stderr
    assert "statements=2005" in result.stderr
    assert pg.psql("SELECT count(*), sum(n) FROM numbers", db=fresh_db) == f"2000|{sum(range(2000))}"


def test_a_failing_concurrent_index_says_how_to_clean_up(pg, fresh_db, tmp_path):
    migrations = write_migrations(tmp_path / "m", {
        "0001_t.sql": "CREATE TABLE dup (x int); INSERT INTO dup VALUES (1), (1);\n",
        "0002_idx.sql": "-- pginit:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY dup_x ON dup (x);\n",
    })
    result = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations)])
    assert result.returncode == 65
    assert "INVALID index" in result.stderr and "DROP INDEX CONCURRENTLY" in result.stderr


def test_changed_checksum_is_refused_unless_allowed(pg, fresh_db, tmp_path):
    migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x int);\n"})
    assert run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations)]).returncode == 0
    old = sha256(migrations / "0001_a.sql")
    (migrations / "0001_a.sql").write_text("CREATE TABLE a (x bigint);\n")
    new = sha256(migrations / "0001_a.sql")
    refused = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations), "--", "true"])
    assert refused.returncode == 65
    assert "migration 0001_a.sql changed after it was applied" in refused.stderr
    assert old in refused.stderr and new in refused.stderr
    allowed = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations), "--allow-changed"])
    assert allowed.returncode == 0, allowed.stderr


def test_duplicate_versions_and_stray_files_are_config_errors(pg, fresh_db, tmp_path):
    dup = write_migrations(tmp_path / "dup", {"0001_a.sql": "SELECT 1;", "1_b.sql": "SELECT 2;"})
    result = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(dup)])
    assert result.returncode == 78
    assert "0001_a.sql" in result.stderr and "1_b.sql" in result.stderr
    stray = write_migrations(tmp_path / "stray", {"0001_a.sql": "SELECT 1;", "notes.txt": "x"})
    result = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(stray)])
    assert result.returncode == 78 and "notes.txt" in result.stderr
    (stray / "notes.txt").unlink()
    (stray / "old").mkdir()  # subdirectories are ignored
    assert run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(stray)]).returncode == 0


def test_a_file_that_cannot_be_read_stops_pginit_instead_of_vanishing(pg, fresh_db, tmp_path):
    """An entry stat cannot read (here a symlink loop) is a config error naming it, not a skipped file."""
    migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x int);\n"})
    os.symlink("0002_loop.sql", migrations / "0002_loop.sql")
    result = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations)])
    assert result.returncode == 78, result.stderr
    assert f"cannot read {migrations}/0002_loop.sql: Too many levels of symbolic links" in result.stderr
    assert pg.psql("SELECT to_regclass('a') IS NULL", db=fresh_db) == "t", "nothing is half-applied"


def test_out_of_order_files_warn_or_fail_with_strict_order(pg, fresh_db, tmp_path):
    migrations = write_migrations(tmp_path / "m", {"0002_b.sql": "CREATE TABLE b (x int);\n"})
    assert run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations)]).returncode == 0
    (migrations / "0001_a.sql").write_text("CREATE TABLE a (x int);\n")
    strict = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations), "--strict-order"])
    assert strict.returncode == 65 and "0001_a.sql is older" in strict.stderr
    relaxed = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations)])
    assert relaxed.returncode == 0
    assert "out of order" in relaxed.stderr


def test_dry_run_and_status_change_nothing(pg, fresh_db, tmp_path):
    migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x int);\n"})
    assert run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations)]).returncode == 0
    (migrations / "0002_b.sql").write_text("-- pginit:no-transaction\nCREATE TABLE b (x int);\n")
    (migrations / "0001_a.sql").write_text("CREATE TABLE a (x text);\n")
    dry = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations), "--dry-run", "--", "false"])
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout == "pending  0002_b.sql  (no transaction)\n"
    status = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations), "--status"])
    assert status.returncode == 0
    lines = status.stdout.splitlines()
    assert lines[0].split() == ["STATUS", "VERSION", "FILE"]
    assert lines[1].split()[:3] == ["changed", "1", "0001_a.sql"]
    assert lines[2].split() == ["pending", "2", "0002_b.sql"]
    assert pg.psql("SELECT to_regclass('b') IS NULL", db=fresh_db) == "t"
    fresh = run_pginit(["--dsn", pg.dsn(db=pg.new_database()), "--migrations", str(migrations), "--dry-run"])
    assert fresh.stdout.split() == ["pending", "0001_a.sql", "pending", "0002_b.sql", "(no", "transaction)"]


def test_twenty_replicas_at_once_apply_every_file_exactly_once(pg, fresh_db, tmp_path):
    migrations = write_migrations(tmp_path / "migrations", twenty_migrations())
    procs = [start_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations)] + LOCK_WAIT)
             for _ in range(20)]
    results = [finish(proc, timeout=120) for proc in procs]
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "error" not in result.stderr.lower()
    assert len(history(pg, fresh_db)) == 20
    assert pg.psql("SELECT count(*), count(DISTINCT version) FROM applied_log", db=fresh_db) == "19|19"
    appliers = [r for r in results if "applying migration" in r.stderr]
    assert len(appliers) == 1


RECORDER = textwrap.dedent("""
    import sys, time
    start = time.time(); time.sleep(0.5); end = time.time()
    with open(sys.argv[1], "a") as f:
        f.write(f"{start} {end}\\n")
""")


def test_ten_replicas_run_the_migrate_command_one_at_a_time(pg, fresh_db, tmp_path):
    script = tmp_path / "migrate.py"
    script.write_text(RECORDER)
    intervals = tmp_path / "intervals"
    command = f"/usr/bin/python3 {script} {intervals}"
    procs = [start_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrate-cmd", command] + LOCK_WAIT) for _ in range(10)]
    for proc in procs:
        assert finish(proc, timeout=120).returncode == 0
    spans = sorted(tuple(map(float, line.split())) for line in intervals.read_text().splitlines())
    assert len(spans) == 10
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end, "two migrate commands ran at the same time"


def test_fingerprint_lets_only_the_first_replica_run_the_command(pg, fresh_db, tmp_path):
    (tmp_path / "app" / "migrations").mkdir(parents=True)
    (tmp_path / "app" / "migrations" / "0001_initial.py").write_text("# a django migration\n")
    script = tmp_path / "migrate.py"
    script.write_text(RECORDER)
    intervals = tmp_path / "intervals"
    args = ["--dsn", pg.dsn(db=fresh_db), "--migrate-cmd", f"/usr/bin/python3 {script} {intervals}",
            "--migrate-fingerprint", "*/migrations/*.py"] + LOCK_WAIT
    procs = [start_pginit(args, cwd=tmp_path) for _ in range(10)]
    results = [finish(proc, timeout=120) for proc in procs]
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    assert len(intervals.read_text().splitlines()) == 1
    skipped = [r for r in results if "skipped the migrate command" in r.stderr]
    assert len(skipped) == 9
    # a changed file runs it again; --force-migrate runs it regardless
    (tmp_path / "app" / "migrations" / "0002_more.py").write_text("# another\n")
    assert run_pginit(args, cwd=tmp_path).returncode == 0
    assert len(intervals.read_text().splitlines()) == 2
    assert run_pginit(args, cwd=tmp_path).returncode == 0
    assert len(intervals.read_text().splitlines()) == 2
    assert run_pginit(args + ["--force-migrate"], cwd=tmp_path).returncode == 0
    assert len(intervals.read_text().splitlines()) == 3


def test_a_failing_migrate_command_is_65_and_the_app_does_not_start(pg, fresh_db, tmp_path):
    marker = tmp_path / "app-ran"
    result = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrate-cmd", "sh -c 'exit 3'", "--", "touch", str(marker)])
    assert result.returncode == 65
    assert "the migrate command failed with exit code 3" in result.stderr
    assert not marker.exists()


def test_sql_files_run_before_the_migrate_command(pg, fresh_db, tmp_path):
    migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE order_check (x int);\n"})
    command = f"psql -X -q -h 127.0.0.1 -p {pg.port} -U app -d {fresh_db} -c 'INSERT INTO order_check VALUES (1)'"
    result = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations), "--migrate-cmd", command],
                        env={"PGPASSWORD": pg.dsn().split(":")[2].split("@")[0]})
    assert result.returncode == 0, result.stderr
    assert pg.psql("SELECT count(*) FROM order_check", db=fresh_db) == "1"


def lock_holders(pg, db):
    return pg.psql("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                   f"WHERE l.locktype = 'advisory' AND d.datname = '{db}'")


def test_sigterm_during_a_long_migration_cancels_it_and_releases_the_lock(pg, fresh_db, tmp_path):
    slow = write_migrations(tmp_path / "slow", {"0001_slow.sql": "CREATE TABLE slow (x int);\nSELECT pg_sleep(30);\n",
                                                "0002_next.sql": "CREATE TABLE next (x int);\n"})
    marker = tmp_path / "app-ran"
    proc = start_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(slow), "--", "touch", str(marker)])
    deadline = time.monotonic() + 20
    while pg.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'") != "1":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    result = finish(proc, timeout=10)
    assert result.returncode == 143, result.stderr
    assert not marker.exists()
    assert "applying migration 0002_next.sql" not in result.stderr, "a file was begun after the stop"
    assert pg.psql("SELECT to_regclass('next') IS NULL", db=fresh_db) == "t"
    assert pg.psql("SELECT to_regclass('pginit_migrations') IS NULL OR "
                   "(SELECT count(*) = 0 FROM pginit_migrations)", db=fresh_db) == "t"
    assert pg.psql("SELECT to_regclass('slow') IS NULL", db=fresh_db) == "t"
    quick = write_migrations(tmp_path / "quick", {"0001_quick.sql": "CREATE TABLE quick (x int);\n"})
    second = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(quick), "--migrate-timeout", "10s"])
    assert second.returncode == 0, second.stderr
    assert pg.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'") == "0"


def test_a_sigkilled_lock_holder_does_not_block_the_next_one(pg, fresh_db, tmp_path):
    """14+: the server checks the killed client's socket every second (client_connection_check_interval)
    and ends its statement, and the lock with it. 13 lacks the setting: the statement runs on to its
    end (here 8 s), and the next replica waits for that, as README's "Supported servers" says."""
    slow = write_migrations(tmp_path / "slow", {"0001_slow.sql": "SELECT pg_sleep(8);\n"})
    proc = start_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(slow)])
    deadline = time.monotonic() + 20
    while lock_holders(pg, fresh_db) != "1":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)
    proc.kill()
    proc.communicate()
    quick = write_migrations(tmp_path / "quick", {"0001_quick.sql": "CREATE TABLE quick (x int);\n"})
    second = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(quick), "--migrate-timeout", "20s"])
    assert second.returncode == 0, second.stderr
    if int(pg.version) >= 14:
        assert second.elapsed < 5, f"the next replica waited {second.elapsed:.1f}s for a killed holder's statement"
    print(f"\nPostgreSQL {pg.version}: the next replica had the lock {second.elapsed:.1f}s after the SIGKILL")


def test_sigterm_during_the_migrate_command_is_forwarded(pg, fresh_db, tmp_path):
    marker = tmp_path / "app-ran"
    seen = tmp_path / "seen"
    command = f"sh -c 'trap \"echo TERM > {seen}; exit 143\" TERM; touch {tmp_path}/running; while :; do sleep 0.05; done'"
    proc = start_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrate-cmd", command, "--", "touch", str(marker)])
    deadline = time.monotonic() + 20
    while not (tmp_path / "running").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    result = finish(proc, timeout=10)
    assert result.returncode == 143, result.stderr
    assert seen.read_text().strip() == "TERM"
    assert not marker.exists()
    assert lock_holders(pg, fresh_db) == "0"


def test_a_sigkilled_pginit_takes_its_migrate_command_with_it(pg, fresh_db, tmp_path):
    """The command runs under pginit's lock, which ends with pginit: it must not run on beside the next
    lock holder's."""
    pid_file = tmp_path / "command.pid"
    # No pipes: the command would hold them open.
    proc = start_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrate-cmd", f"sh -c 'echo $$ > {pid_file}; exec sleep 60'"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    command_pid = int(pid_file.read_text())
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{command_pid}") and "Z" not in open(f"/proc/{command_pid}/stat").read().split()[2]:
        assert time.monotonic() < deadline, "the migrate command outlived its pginit"
        time.sleep(0.02)


# Long enough for a second replica to start and reach the lock: under qemu-user its two connections
# (SCRAM's PBKDF2, emulated) take about a second.
FIRST_FILE_SECONDS = 5 if is_emulated(PGINIT) else 1


def test_concurrent_indexes_while_another_replica_waits_for_the_lock(pg, fresh_db, tmp_path):
    migrations = write_migrations(tmp_path / "m", {
        "0001_table.sql": f"""
            CREATE TABLE items (id int, name text);
            INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 10000) g;
            SELECT pg_sleep({FIRST_FILE_SECONDS});
        """,
        "0002_indexes.sql": """
            -- pginit:no-transaction
            CREATE INDEX CONCURRENTLY items_id ON items (id);
            CREATE INDEX CONCURRENTLY items_name ON items (name);
            CREATE FUNCTION item_label(i int) RETURNS text LANGUAGE plpgsql AS $$
            BEGIN
              RETURN 'item;' || i || ';';
            END;
            $$;
        """,
    })
    first = start_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations)])
    deadline = time.monotonic() + 20
    while lock_holders(pg, fresh_db) != "1":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    waiter = start_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations), "--log-level", "debug"])
    first_result, waiter_result = finish(first, timeout=60), finish(waiter, timeout=60)
    assert first_result.returncode == 0, first_result.stderr
    assert waiter_result.returncode == 0, waiter_result.stderr
    assert "waiting for the migration lock, held by pid" in waiter_result.stderr
    assert "application_name=pginit" in waiter_result.stderr
    assert pg.psql("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                   "WHERE c.relname IN ('items_id', 'items_name') AND i.indisvalid", db=fresh_db) == "2"
    assert pg.psql("SELECT item_label(7)", db=fresh_db) == "item;7;"


def test_waiters_leave_spare_connection_slots_to_running_applications(tmp_path):
    """max_connections = 10 (7 for app roles): with --spare-connections 5, one waiter may wait connected
    (LISTEN); the others close their connection and try again later. All migrate once the lock is free."""
    with running_server(extra_conf="max_connections = 10\n") as small:
        db = small.new_database()
        migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x int);\n"})
        holder = lock_holder(small, db, 4343)
        try:
            waiters = [start_pginit(["--dsn", small.dsn(db=db), "--migrations", str(migrations), "--lock-key", "4343",
                                     "--spare-connections", "5", "--migrate-timeout", "60s", "--log-level", "debug"])
                       for _ in range(4)]
            listening_seen = 0
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                listening = int(small.psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' "
                                           "AND query LIKE 'LISTEN%' AND state = 'idle'"))
                listening_seen = max(listening_seen, listening)
                time.sleep(0.05)
            holder.communicate("SELECT pg_advisory_unlock(4343);\n", timeout=10)
            results = [finish(waiter, timeout=60) for waiter in waiters]
        finally:
            holder.kill()
        assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
        assert listening_seen <= 1, f"{listening_seen} waiters held a slot"
        yielded = [r for r in results if "leaving the slot to others" in r.stderr]
        assert len(yielded) >= 2
        assert [row[0] for row in history(small, db)] == ["1"]


def psql_session(pg, db):
    """An interactive psql of the app role: statements go to its stdin, answers come from its stdout."""
    return subprocess.Popen([f"{PG_BIN}/psql", "-X", "-q", "-At", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "app",
                             "-d", db], env=dict(os.environ, PGPASSWORD=APP_PASSWORD), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)


def lock_holder(pg, db, key):
    """A psql_session that holds the advisory lock `key` (once this returns); the caller kills it."""
    holder = psql_session(pg, db)
    holder.stdin.write(f"SELECT pg_advisory_lock({key});\nSELECT 'held';\n")
    assert holder.stdout.readline().strip() == ""  # pg_advisory_lock returns void
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_waiting_replica_listens_for_the_release_of_the_lock(pg, fresh_db, tmp_path):
    """Waiters LISTEN on the lock's channel (an idle LISTEN holds no snapshot) and try again when
    notified; pginit's own release notifies."""
    migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x int);\n"})
    holder = lock_holder(pg, fresh_db, 4242)
    try:
        waiter = start_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations), "--lock-key", "4242",
                               "--log-level", "debug"])
        # It names the holder only once it listens.
        seen = ""
        while "waiting for the migration lock, held by" not in seen:
            line = waiter.stderr.readline()
            assert line, seen
            seen += line
        pg.psql("SELECT pg_notify('pginit_lock_4242', '')", db=fresh_db)  # not released yet: it waits on
        time.sleep(0.5)
        assert waiter.poll() is None
        holder.communicate("SELECT pg_advisory_unlock(4242);\n", timeout=10)
        result = finish(waiter, timeout=30)
    finally:
        holder.kill()
    assert result.returncode == 0, seen + result.stderr
    assert "notified of a release of the migration lock: trying again" in result.stderr
    assert [row[0] for row in history(pg, fresh_db)] == ["1"]
    listener = psql_session(pg, fresh_db)
    listener.stdin.write("LISTEN pginit_lock_4242;\nSELECT 'listening';\n")
    assert listener.stdout.readline().strip() == "listening"
    more = write_migrations(tmp_path / "m", {"0002_b.sql": "CREATE TABLE b (x int);\n"})
    assert run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(more), "--lock-key", "4242"]).returncode == 0
    heard, _ = listener.communicate("SELECT 'done';\n", timeout=10)
    assert 'Asynchronous notification "pginit_lock_4242" received' in heard


def logins_into(pg, db, argv):
    """pginit's result and its sessions in db, as the server counted them (pg_stat_database.sessions,
    read once every session there has ended and flushed its statistics)."""
    if int(pg.version) < 14:
        pytest.skip("the logins are counted by pg_stat_database.sessions, which PostgreSQL has from 14 on")
    before = int(pg.psql(f"SELECT sessions FROM pg_stat_database WHERE datname = '{db}'"))
    result = run_pginit(argv)
    for _ in range(100):
        if pg.psql(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}'") == "0":
            break
        time.sleep(0.05)
    time.sleep(0.5)
    return result, int(pg.psql(f"SELECT sessions FROM pg_stat_database WHERE datname = '{db}'")) - before


# A statement that stalls for half of --ddl-lock-timeout (as one can on a loaded machine) has its
# blockers looked up over a login of its own: not the logins these tests count.
NO_BLOCKER_LOOKUP = ["--ddl-lock-timeout", "0"]


def test_the_wait_and_the_migrations_share_one_login(pg, fresh_db, tmp_path):
    """Half the forks and SCRAM exchanges a herd costs the server: the wait's session migrates too."""
    migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x int);\n"})
    result, logins = logins_into(pg, fresh_db, ["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations),
                                                *NO_BLOCKER_LOOKUP, "--", "true"])
    assert result.returncode == 0, result.stderr
    assert logins == 1
    assert len(history(pg, fresh_db)) == 1


def test_a_ready_sql_of_the_users_gets_a_session_of_its_own(pg, fresh_db, tmp_path):
    """Its SET (or open transaction) must not follow the migrations: the wait's session is closed."""
    migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x int);\n"})
    result, logins = logins_into(pg, fresh_db, ["--dsn", pg.dsn(db=fresh_db), "--ready-sql",
                                                "SET search_path = nowhere", "--migrations", str(migrations),
                                                *NO_BLOCKER_LOOKUP])
    assert result.returncode == 0, result.stderr
    assert logins == 2
    assert pg.psql("SELECT schemaname FROM pg_tables WHERE tablename = 'a'", db=fresh_db) == "public"


def test_migrate_dsn_is_used_for_migrations(pg, fresh_db, tmp_path):
    migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE owned (x int);\n"})
    from conftest import SUPERUSER_PASSWORD
    migrate_dsn = pg.dsn(user="postgres", password=SUPERUSER_PASSWORD, db=fresh_db)
    result = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrate-dsn", migrate_dsn, "--migrations", str(migrations)])
    assert result.returncode == 0, result.stderr
    assert pg.psql("SELECT tableowner FROM pg_tables WHERE tablename = 'owned'", db=fresh_db) == "postgres"


def test_custom_history_table_and_lock_key(pg, fresh_db, tmp_path):
    migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x int);\n"})
    result = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations),
                         "--migrations-table", "ops.history", "--lock-key", "12345", "--log-level", "debug"])
    assert result.returncode == 0, result.stderr
    assert "lock_key=12345" in result.stderr
    assert [row[0] for row in history(pg, fresh_db, "ops.history")] == ["1"]


def test_migrations_wait_for_a_primary_and_say_so(pg, tmp_path):
    """A standby (pg_basebackup -R) is in recovery: pginit waits, logs why, and proceeds once it is
    promoted, as after a failover."""
    from pgserver import PgServer
    standby = PgServer.standby_of(pg)
    try:
        standby.start(wait=False)
        standby.wait_until_accepting()
        migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE after_failover (x int);\n"})
        dsn = f"postgres://postgres:{pg.superuser_password}@127.0.0.1:{standby.port}/appdb"
        timed_out = run_pginit(["--dsn", dsn, "--migrations", str(migrations), "--migrate-timeout", "1s"])
        assert timed_out.returncode == 69, timed_out.stderr
        assert "the server is in recovery (a standby): migrations need the primary" in timed_out.stderr
        proc = start_pginit(["--dsn", dsn, "--migrations", str(migrations), "--migrate-timeout", "60s"])
        time.sleep(1)
        assert proc.poll() is None
        standby.promote()
        result = finish(proc, timeout=60)
        assert result.returncode == 0, result.stderr
        assert standby.psql("SELECT to_regclass('after_failover') IS NOT NULL", db="appdb") == "t"
    finally:
        standby.destroy()
