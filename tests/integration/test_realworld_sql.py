"""Real schema dumps that nobody here wrote (issue 12): pginit must cut them into statements exactly
as psql does. Each dump is applied by the real psql (-1 -f), by pginit as a normal file and by
pginit as a no-transaction file, each into a fresh database; the schemas (pg_dump -s) must be
identical and the server must have received the same statements (log_statement = all, csvlog)."""
import csv
import os
import re
import subprocess
import time
import uuid

import pytest

from conftest import SUPERUSER_PASSWORD, run_pginit
from pgserver import PG_BIN, running_server

from realworld import REALWORLD_SQL as DUMPS_DIR, realworld_dumps

DUMPS = realworld_dumps()
# What pginit and psql -1 send around a file's own statements; among them the look-up of who blocks a
# statement that stalls for half of --ddl-lock-timeout (a side connection of the same
# application_name), which a loaded machine can trigger on any statement of a long dump.
BOOKKEEPING = re.compile(r"^(BEGIN|BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;.*|SELECT a\.pid, coalesce\(a\.state, ''\), .*|SELECT pg_backend_pid\(\)(, current_setting\(.application_name.\))?|SET LOCAL lock_timeout = '\d+ms'|COMMIT|ROLLBACK|SELECT pg_try_advisory_lock\(\$1::bigint\).*|SELECT pg_advisory_unlock\(\$1::bigint\), pg_notify\(\$2, ''\)|SELECT NOT pg_is_in_recovery\(\)|SET client_connection_check_interval"
                         r".*|INSERT INTO \"public\".\"pginit_migrations\" .*|(INSERT INTO|UPDATE|DELETE FROM|SELECT true WHERE NOT EXISTS \(SELECT FROM) \"public\".\"pginit_migrations_lease\" .*|SELECT version, name, checksum FROM .*|"
                         r"SELECT current_database\(\)|CREATE SCHEMA IF NOT EXISTS \"public\";.*)$", re.S)


@pytest.fixture(scope="module")
def logged_server():
    with running_server(extra_conf="log_statement = 'all'\nlogging_collector = on\nlog_destination = 'csvlog'\n"
                                   "log_directory = 'csvlog'\nlog_filename = 'server.log'\nlog_rotation_size = 0\n"
                                   "max_locks_per_transaction = 1024\n") as server:
        yield server


# A statement as log_statement shows it: simple protocol (psql; no-transaction files) or the
# extended protocol's execute of a pipeline (transactional files).
LOGGED_STATEMENT = re.compile(r"^(statement|execute <unnamed>): ", re.S)


def statements_sent(server, application_name):
    """The statements the server logged for one application_name, in order."""
    marker = f"SELECT 'end of {application_name}'"
    server.psql(f"SET application_name = 'marker'; {marker}")
    path = os.path.join(server.data, "csvlog", "server.csv")
    deadline = time.monotonic() + 30
    while True:  # the logging collector writes asynchronously: wait for our marker
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        if any(row[13] == f"statement: SET application_name = 'marker'; {marker}" for row in rows):
            break
        assert time.monotonic() < deadline, "the server log never showed the marker"
        time.sleep(0.1)
    # csvlog columns: 13 = message, 22 = application_name
    return [LOGGED_STATEMENT.sub("", row[13]) for row in rows
            if row[22] == application_name and LOGGED_STATEMENT.match(row[13])]


def own_statements(statements):
    """Each statement without its terminating ';' and surrounding blanks, bookkeeping left out."""
    out = []
    for statement in statements:
        text = statement.strip()
        text = text[:-1].rstrip() if text.endswith(";") else text
        if not BOOKKEEPING.match(text):
            out.append(text)
    return out


def schema_of(server, db):
    dump = subprocess.run([f"{PG_BIN}/pg_dump", "-s", "--no-owner", "--no-privileges", "-h", "127.0.0.1", "-p",
                           str(server.port), "-U", "postgres", "-T", "public.pginit_migrations",
                           "-T", "public.pginit_migrations_fingerprints", "-T", "public.pginit_migrations_lease", db],
                          env=dict(os.environ, PGPASSWORD=SUPERUSER_PASSWORD), check=True,
                          stdout=subprocess.PIPE, text=True).stdout
    # pg_dump >= 15.14 guards its output with a random \restrict key: not part of the schema.
    return "\n".join(line for line in dump.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


def apply_with_psql(server, path):
    db, app = "psql_" + uuid.uuid4().hex[:8], "ref_" + uuid.uuid4().hex[:8]
    server.psql(f"CREATE DATABASE {db}")
    result = subprocess.run([f"{PG_BIN}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", path,
                             "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "-d", db],
                            env=dict(os.environ, PGPASSWORD=SUPERUSER_PASSWORD, PGAPPNAME=app),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert result.returncode == 0, result.stderr
    return db, app


def apply_with_pginit(server, path, tmp_path, no_transaction):
    db, app = "pginit_" + uuid.uuid4().hex[:8], "pginit_" + uuid.uuid4().hex[:8]
    server.psql(f"CREATE DATABASE {db}")
    migrations = tmp_path / db
    migrations.mkdir()
    with open(path) as f:
        content = f.read()
    header = "-- pginit:no-transaction\n" if no_transaction else ""
    (migrations / "0001_baseline.sql").write_text(header + content)
    dsn = (f"postgres://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{server.port}/{db}"
           f"?application_name={app}")
    result = run_pginit(["--dsn", dsn, "--no-wait", "--migrations", str(migrations)], timeout=300)
    assert result.returncode == 0, result.stderr
    return db, app


@pytest.mark.parametrize("dump", DUMPS)
def test_pginit_sends_what_psql_sends_and_builds_the_same_schema(logged_server, dump, tmp_path):
    path = os.path.join(DUMPS_DIR, dump)
    psql_db, psql_app = apply_with_psql(logged_server, path)
    expected_schema = schema_of(logged_server, psql_db)
    expected = own_statements(statements_sent(logged_server, psql_app))
    assert len(expected) > 50
    print(f"{dump}: {len(expected)} statements")
    for no_transaction in (False, True):
        db, app = apply_with_pginit(logged_server, path, tmp_path, no_transaction)
        sent = own_statements(statements_sent(logged_server, app))
        assert len(sent) == len(expected), f"pginit sent {len(sent)} statements, psql {len(expected)}"
        mismatches = [(ours, theirs) for ours, theirs in zip(sent, expected) if ours != theirs]
        assert not mismatches, f"first different statement:\npginit: {mismatches[0][0]}\npsql:   {mismatches[0][1]}"
        assert schema_of(logged_server, db) == expected_schema


def test_psql_only_syntax_is_refused_before_anything_is_sent(pg, fresh_db, tmp_path):
    from test_migrations import history, write_migrations
    for name, content, line, what in [
            ("0002_meta.sql", "INSERT INTO a VALUES (1);\n\n\\set ON_ERROR_STOP on\n", 3, "psql meta-command \\set"),
            ("0002_copy.sql", "-- data\nCOPY a (x) FROM stdin;\n1\n2\n\\.\n", 2, "COPY ... FROM stdin")]:
        migrations = write_migrations(tmp_path / name, {"0001_ok.sql": "CREATE TABLE a (x int);\n", name: content})
        result = run_pginit(["--dsn", pg.dsn(db=fresh_db), "--migrations", str(migrations), "--", "true"])
        assert result.returncode == 65, result.stderr
        assert f"migration {name} line {line}: {what} is psql-only syntax" in result.stderr
        assert pg.psql("SELECT to_regclass('a') IS NULL", db=fresh_db) == "t", "0001 must not be applied either"
        assert history(pg, fresh_db) == []


def test_a_fresh_pg_dump_works_as_a_baseline_migration(pg, tmp_path):
    source, target = pg.new_database(), pg.new_database()
    pg.psql("CREATE TABLE events (id bigint PRIMARY KEY, begin timestamptz, \"end\" timestamptz);"
            "CREATE INDEX events_begin ON events (begin);"
            "CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT x * 2; END;", db=source)
    migrations = tmp_path / "m"
    migrations.mkdir()
    dump = schema_of(pg, source)
    raw = subprocess.run([f"{PG_BIN}/pg_dump", "-s", "--no-owner", "-h", "127.0.0.1", "-p", str(pg.port), "-U",
                          "postgres", source], env=dict(os.environ, PGPASSWORD=SUPERUSER_PASSWORD), check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    (migrations / "0001_baseline.sql").write_text(raw)
    # pg_dump sets search_path to '' for its session: the next file must not inherit it.
    (migrations / "0002_after.sql").write_text("CREATE TABLE after_baseline (x int);\n")
    dsn = f"postgres://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{pg.port}/{target}"
    result = run_pginit(["--dsn", dsn, "--migrations", str(migrations), "--log-level", "debug"])
    assert result.returncode == 0, result.stderr
    restrict_line = next(n for n, line in enumerate(raw.splitlines(), 1) if line.startswith("\\restrict "))
    assert f"left out a psql-only line file=0001_baseline.sql line={restrict_line}" in result.stderr
    pg.psql("DROP TABLE after_baseline", db=target)
    assert schema_of(pg, target) == dump
    assert pg.psql("SELECT twice(21)", db=target) == "42"
