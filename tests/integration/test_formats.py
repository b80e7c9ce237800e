"""Other tools' migration directories and history tables (issue 26): golang-migrate, goose, dbmate, Flyway
and Prisma directories read by their own rules, their history tables kept as the tools keep them (the
real dbmate CLI from npm reads what pginit wrote, and pginit reads what it wrote), their failure states
refused with their words, and everything pginit guarantees (exactly once across replicas, through
PgBouncer, the tools' own locks) for each. The five real directories of ../shared/realworld-migrations
apply through pginit to the same schema as through the tool's own way, twice the second time with
nothing to do."""
import hashlib
import json
import os
import subprocess
import zlib

import pytest

from conftest import SUPERUSER_PASSWORD, finish, run_pginit, start_pginit
from pgbouncer import running_pgbouncer
from pgserver import PG_BIN, ROOT, running_server
from realworld import REALWORLD_MIGRATIONS, realworld_migration_directories
from test_faults import wait_until
from test_migrations import write_migrations

DBMATE = os.path.join(os.environ.get("PGINIT_CACHE", os.path.join(ROOT, ".cache")), "npm", "node_modules", ".bin",
                      "dbmate")


@pytest.fixture(scope="module")
def server():
    with running_server() as own:
        yield own


def owner_dsn(server, db, query=""):
    return f"postgres://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{server.port}/{db}{query}"


def refused_before_anything_is_sent(server, db, migrations, message):
    """pginit run on `migrations` exits 78 with `message` in its error line."""
    result = run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations)])
    assert result.returncode == 78, result.stderr
    assert message in result.stderr, result.stderr
    return result


def in_subdirectory(directory, files):
    """`files` written into `directory`, made with its parents (a Prisma migration's folder)."""
    directory.mkdir(parents=True, exist_ok=True)
    return write_migrations(directory, files)


def rows(server, db, sql):
    return [row.split("|") for row in server.psql(sql, db=db).splitlines()]


def flyway_checksum(text):
    """Flyway's ChecksumCalculator, written again: CRC32 over the lines without their terminators, the BOM
    of the first dropped, as a signed 32-bit number."""
    crc, first = 0, True
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[:-1 if text.endswith(("\n", "\r")) else None]:
        data = line.encode()
        if first and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        first = False
        crc = zlib.crc32(data, crc)
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def test_flyways_checksum_as_flyway_computes_it():
    """The values migration-formats.md gives, computed the same way here."""
    assert flyway_checksum("CREATE TABLE a (id int);\n") == -623083431
    assert flyway_checksum("CREATE TABLE a (id int);\r\n") == -623083431
    assert flyway_checksum("\ufeffCREATE TABLE a (id int);") == -623083431
    assert flyway_checksum("CREATE TABLE a (id int); \n") == -83756395


# --- dbmate: the hazard, and the real CLI on the same table -------------------------------------------

DBMATE_FILES = {
    "20240101000000_users.sql": "-- migrate:up\nCREATE TABLE users (id int PRIMARY KEY, name text);\n\n"
                                "-- migrate:down\nDROP TABLE users;\n",
    "20240102000000_email.sql": "-- migrate:up\nALTER TABLE users ADD COLUMN email text;\n\n"
                                "-- migrate:down\nALTER TABLE users DROP COLUMN email;\n",
    "20240103000000_index.sql": "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n\n"
                                "-- migrate:down\nDROP INDEX users_email;\n",
}


def dbmate(server, db, directory, *args):
    url = f"postgres://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{server.port}/{db}?sslmode=disable"
    return subprocess.run([DBMATE, "--url", url, "--migrations-dir", str(directory), "--no-dump-schema", *args],
                          capture_output=True, text=True, timeout=60)


def test_a_dbmate_directory_runs_its_up_sections_only_and_the_dbmate_cli_agrees(server, tmp_path):
    db = server.new_database()
    migrations = write_migrations(tmp_path / "m", DBMATE_FILES)
    applied = run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations)])
    assert applied.returncode == 0, applied.stderr
    assert "the migrations are dbmate's" in applied.stderr
    # Before: the first file's down section ran right after its up, and the second failed.
    assert server.psql("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns "
                       "WHERE table_name = 'users'", db=db) == "id,name,email"
    assert server.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email'::regclass", db=db) == "t"
    assert rows(server, db, "SELECT version FROM schema_migrations ORDER BY version") == [
        ["20240101000000"], ["20240102000000"], ["20240103000000"]]
    # dbmate itself sees every file applied, and can roll the last back...
    status = dbmate(server, db, migrations, "status")
    assert status.returncode == 0, status.stderr
    assert status.stdout.count("[X]") == 3 and "Pending: 0" in status.stdout, status.stdout
    rolled = dbmate(server, db, migrations, "rollback")
    assert rolled.returncode == 0, rolled.stderr
    assert server.psql("SELECT to_regclass('users_email') IS NULL", db=db) == "t"
    # ... which pginit then applies again, as dbmate would.
    again = run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations), "--status"])
    assert [line.split()[0] for line in again.stdout.splitlines()[1:]] == ["applied", "applied", "pending"]
    assert run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations)]).returncode == 0
    assert dbmate(server, db, migrations, "status").stdout.count("[X]") == 3
    # After the tool: a file dbmate applies is applied for pginit.
    write_migrations(migrations, {"20240104000000_more.sql": "-- migrate:up\nCREATE TABLE more (x int);\n\n"
                                                             "-- migrate:down\nDROP TABLE more;\n"})
    assert dbmate(server, db, migrations, "up").returncode == 0
    rerun = run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations)])
    assert rerun.returncode == 0 and "applying migration" not in rerun.stderr, rerun.stderr


def test_a_dbmate_file_without_its_down_section_is_refused_before_anything_is_sent(server, tmp_path):
    db = server.new_database()
    migrations = write_migrations(tmp_path / "m", {
        "1_a.sql": "-- migrate:up\nCREATE TABLE a (x int);\n-- migrate:down\nDROP TABLE a;\n",
        "2_b.sql": "-- migrate:up\nCREATE TABLE b (x int);\n"})
    refused_before_anything_is_sent(server, db, migrations, "dbmate migration 2_b.sql line 1: -- migrate:up without "
                                    "its -- migrate:down (dbmate requires one) (exit 78)")
    assert server.psql("SELECT to_regclass('a') IS NULL", db=db) == "t"


# --- golang-migrate ----------------------------------------------------------------------------------

def test_golang_migrate_keeps_its_one_row_its_dirty_state_and_an_applications_own_column(server, tmp_path):
    db = server.new_database()
    migrations = write_migrations(tmp_path / "m", {
        "000001_init.up.sql": "CREATE TABLE a (x int);\nINSERT INTO a VALUES (1);\n",
        "000001_init.down.sql": "DROP TABLE a;\n",
        "000002_more.up.sql": "ALTER TABLE a ADD COLUMN y int;\n",
        "000002_more.down.sql": "ALTER TABLE a DROP COLUMN y;\n",
        "000003_index.up.sql": "CREATE INDEX CONCURRENTLY a_x ON a (x);\n",
        "README.md": "golang-migrate ignores what it does not name\n"})
    # golang-migrate applied version 1; the application added a column of its own to the table.
    server.psql("CREATE TABLE a (x int); INSERT INTO a VALUES (1); "
                "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL, "
                "data_version int); INSERT INTO schema_migrations VALUES (1, false, 42)", db=db)
    result = run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations)])
    assert result.returncode == 0, result.stderr
    assert "applying migration 000001" not in result.stderr, "version 1 was already there"
    assert rows(server, db, "SELECT version, dirty, data_version FROM schema_migrations") == [["3", "f", "42"]]
    assert server.psql("SELECT count(*) FROM a", db=db) == "1"
    # A version left dirty (the tool died in it) stops pginit as it stops golang-migrate.
    server.psql("UPDATE schema_migrations SET version = 2, dirty = true", db=db)
    dirty = run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations)])
    assert dirty.returncode == 65, dirty.stderr
    assert ("\"public\".\"schema_migrations\": Dirty database version 2. Fix and force version. (golang-migrate: "
            "the migration to version 2 failed") in dirty.stderr
    assert "`migrate force 2`" in dirty.stderr


def test_golang_migrates_own_url_works_as_it_is(server, tmp_path):
    """The URL golang-migrate is given (its x- parameters, which libpq refuses, and search_path) serves pginit
    unchanged: x-migrations-table (quoted: schema and table) is the history table, and the other x- parameters
    are golang-migrate's own business."""
    db = server.new_database()
    server.psql("CREATE SCHEMA ops; CREATE SCHEMA app", db=db)
    migrations = write_migrations(tmp_path / "m", {"1_a.up.sql": "CREATE TABLE a (x int);\n",
                                                   "2_b.up.sql": "CREATE TABLE b (x int);\n"})
    url = owner_dsn(server, db, "?sslmode=disable&search_path=app&x-migrations-table=%22ops%22.%22migrations%22"
                                "&x-migrations-table-quoted=1&x-multi-statement=true&x-statement-timeout=60000")
    result = run_pginit(["--dsn", url, "--migrations", str(migrations)])
    assert result.returncode == 0, result.stderr
    assert rows(server, db, "SELECT version, dirty FROM ops.migrations") == [["2", "f"]]
    assert server.psql("SELECT to_regclass('app.a') IS NOT NULL AND to_regclass('app.b') IS NOT NULL", db=db) == "t"
    assert server.psql("SELECT to_regclass('public.schema_migrations') IS NULL", db=db) == "t"
    unquoted = run_pginit(["--dsn", owner_dsn(server, db, "?x-migrations-table=ops.migrations&x-migrations-table-"
                                                          "quoted=true"), "--migrations", str(migrations)])
    assert unquoted.returncode == 78, unquoted.stderr
    assert "x-migrations-table must be quoted" in unquoted.stderr


def test_a_golang_migrate_file_that_fails_leaves_nothing_to_force_when_it_could_run_in_a_transaction(server, tmp_path):
    db = server.new_database()
    migrations = write_migrations(tmp_path / "m", {"1_a.up.sql": "CREATE TABLE a (x int);\n",
                                                   "2_bad.up.sql": "CREATE TABLE b (x int);\nSELECT no_such();\n"})
    failed = run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations)])
    assert failed.returncode == 65, failed.stderr
    assert rows(server, db, "SELECT version, dirty FROM schema_migrations") == [["1", "f"]]
    assert server.psql("SELECT to_regclass('b') IS NULL", db=db) == "t"


# --- goose ---------------------------------------------------------------------------------------------

GOOSE_FILES = {
    "00001_users.sql": """-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated := now();
  RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TABLE users (id int PRIMARY KEY, updated timestamptz); -- a comment after
INSERT INTO users VALUES (1, now());

-- +goose Down
DROP TABLE users;
DROP FUNCTION touch();
""",
    "00002_index.sql": """-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY users_updated ON users (updated);
-- +goose Down
DROP INDEX users_updated;
""",
}


def test_goose_files_run_as_goose_runs_them_and_its_table_is_kept_as_goose_keeps_it(server, tmp_path):
    db = server.new_database()
    migrations = write_migrations(tmp_path / "m", GOOSE_FILES)
    result = run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations)])
    assert result.returncode == 0, result.stderr
    assert server.psql("SELECT count(*) FROM users", db=db) == "1"
    assert server.psql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_updated'::regclass", db=db) == "t"
    assert rows(server, db, "SELECT version_id, is_applied FROM goose_db_version ORDER BY id") == [
        ["0", "t"], ["1", "t"], ["2", "t"]]
    # A Go migration cannot run outside the application's binary: refused, naming it.
    write_migrations(migrations, {"00003_backfill.go": "package migrations\n"})
    refused_before_anything_is_sent(server, db, migrations, "goose migration 00003_backfill.go is a Go migration")


# --- Flyway ----------------------------------------------------------------------------------------------

def test_flyway_versions_repeatables_checksums_and_failed_rows_as_flyway_keeps_them(server, tmp_path):
    db = server.new_database()
    files = {
        "V1__create.sql": "CREATE TABLE items (id int, name text);\n",
        "sub/V1_1__more.sql": "ALTER TABLE items ADD COLUMN ${column} int;\n",
        "V1.10__after_one_nine.sql": "INSERT INTO items (id) VALUES (10);\n",
        "V1.9__before_one_ten.sql": "INSERT INTO items (id) VALUES (9);\n",
        "R__items_view.sql": "CREATE OR REPLACE VIEW items_view AS SELECT id FROM items;\n",
        "V57__readme.md": "not a migration\n",
    }
    migrations = write_migrations(tmp_path / "m", {k: v for k, v in files.items() if "/" not in k})
    write_migrations(tmp_path / "m" / "sub", {"V1_1__more.sql": files["sub/V1_1__more.sql"]})
    refused_before_anything_is_sent(server, db, migrations,
                                    "Flyway migration sub/V1_1__more.sql: no value for placeholder ${column}")
    env = {"FLYWAY_PLACEHOLDERS_COLUMN": "price"}
    applied = run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations)], env=env)
    assert applied.returncode == 0, applied.stderr
    history = rows(server, db, "SELECT installed_rank, version, description, type, script, checksum, success "
                               "FROM flyway_schema_history ORDER BY installed_rank")
    expected = [["1", "1", "create", "V1__create.sql"], ["2", "1.1", "more", "sub/V1_1__more.sql"],
                ["3", "1.9", "before one ten", "V1.9__before_one_ten.sql"],
                ["4", "1.10", "after one nine", "V1.10__after_one_nine.sql"],
                ["5", "", "items view", "R__items_view.sql"]]
    assert [row[:3] + [row[4]] for row in history] == expected
    for row in history:
        assert row[3] == "SQL" and row[6] == "t"
        assert int(row[5]) == flyway_checksum((migrations / row[4]).read_text()), row
    # A repeatable runs again when its checksum changes, after the versioned ones.
    (migrations / "R__items_view.sql").write_text("CREATE OR REPLACE VIEW items_view AS SELECT id, price FROM items;\n")
    again = run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations)], env=env)
    assert again.returncode == 0 and again.stderr.count("applying migration") == 1, again.stderr
    assert server.psql("SELECT count(*) FROM flyway_schema_history WHERE version IS NULL", db=db) == "2"
    # A failed row (a non-transactional migration that failed) stops pginit as it stops Flyway.
    server.psql("UPDATE flyway_schema_history SET success = false WHERE installed_rank = 4", db=db)
    failed = run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations)], env=env)
    assert failed.returncode == 65, failed.stderr
    assert "contains a failed migration to version 1.10 ! (Flyway:" in failed.stderr
    assert "`flyway repair`" in failed.stderr


def test_flyway_undo_and_callback_files_are_refused(server, tmp_path):
    db = server.new_database()
    for name in ("U1__undo_create.sql", "afterMigrate.sql"):
        migrations = write_migrations(tmp_path / name, {"V1__create.sql": "CREATE TABLE t (x int);\n",
                                                        name: "SELECT 1;\n"})
        refused_before_anything_is_sent(server, db, migrations, f"Flyway file {name} is")
    assert server.psql("SELECT to_regclass('t') IS NULL", db=db) == "t"


# --- Prisma ------------------------------------------------------------------------------------------------

def test_prisma_rows_checksums_and_an_unfinished_migration_as_prisma_keeps_them(server, tmp_path):
    db = server.new_database()
    migrations = tmp_path / "m"
    scripts = {"20240101000000_init": "CREATE TABLE \"User\" (id int PRIMARY KEY);\n",
               "20240102000000_index": "CREATE INDEX CONCURRENTLY \"User_id\" ON \"User\" (id);\n"}
    for name, script in scripts.items():
        in_subdirectory(migrations / name, {"migration.sql": script})
    (migrations / "migration_lock.toml").write_text('provider = "postgresql"\n')
    result = run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations)])
    assert result.returncode == 0, result.stderr
    got = rows(server, db, "SELECT migration_name, checksum, finished_at IS NOT NULL, rolled_back_at IS NULL, "
                           "applied_steps_count, length(id) FROM _prisma_migrations ORDER BY started_at")
    assert got == [[name, hashlib.sha256(script.encode()).hexdigest(), "t", "t", "1", "36"]
                   for name, script in scripts.items()]
    server.psql("UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = '20240102000000_index'", db=db)
    in_subdirectory(migrations / "20240103000000_more", {"migration.sql": "CREATE TABLE more (x int);\n"})
    failed = run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations)])
    assert failed.returncode == 65, failed.stderr
    assert "the `20240102000000_index` migration started at" in failed.stderr and "P3009" in failed.stderr
    assert "prisma migrate resolve --rolled-back 20240102000000_index" in failed.stderr
    assert server.psql("SELECT to_regclass('more') IS NULL", db=db) == "t"


def test_prisma_orders_directories_as_javascripts_localecompare_does(tmp_path):
    names = ["20240126184148_new_models", "20240126184148_new_models copy", "a_b", "A_b", "a B", "b_x", "a-b", "a.b",
             "a1", "aB", "ab", "a_B", "20240718011733_x", "2024_z"]
    ordered = subprocess.run(["node", "-e", "console.log(JSON.stringify(JSON.parse(process.argv[1]).sort("
                              "(a, b) => a.localeCompare(b))))", json.dumps(names)],
                             capture_output=True, text=True, check=True).stdout
    for name in names:
        in_subdirectory(tmp_path / "m" / name, {"migration.sql": "SELECT 1;\n"})
    from_pginit = [line.removeprefix("pending  ").split("/")[0] for line in _pginit_order(tmp_path / "m")]
    assert from_pginit == json.loads(ordered)


def _pginit_order(directory):
    """The pending list pginit prints for `directory` against an empty database."""
    with running_server() as own:
        db = own.new_database()
        out = run_pginit(["--dsn", owner_dsn(own, db), "--migrations", str(directory), "--dry-run"])
        assert out.returncode == 0, out.stderr
        return [line for line in out.stdout.splitlines() if line.startswith("pending")]


# --- recognising a directory ---------------------------------------------------------------------------------

def test_a_directory_that_fits_two_formats_is_refused_naming_the_evidence(server, tmp_path):
    db = server.new_database()
    migrations = write_migrations(tmp_path / "m", {
        "1_a.sql": "-- +goose Up\nCREATE TABLE a (x int);\n",
        "2_b.sql": "-- migrate:up\nCREATE TABLE b (x int);\n-- migrate:down\nDROP TABLE b;\n"})
    refused_before_anything_is_sent(server, db, migrations, "the migrations directory fits more than one format: goose "
                                    "(1_a.sql has -- +goose Up), dbmate (2_b.sql has -- migrate:up)")
    named = run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations), "--migrations-format", "pginit"])
    assert named.returncode == 78 and "has goose's" in named.stderr, named.stderr
    assert server.psql("SELECT to_regclass('a') IS NULL AND to_regclass('b') IS NULL", db=db) == "t"


# --- what pginit guarantees, for every format -----------------------------------------------------------------

HERD = {
    "golang-migrate": {f"{v}_t{v}.up.sql": f"CREATE TABLE t{v} (x int);\nINSERT INTO applied_log VALUES ({v});\n"
                       for v in range(2, 8)} | {"1_log.up.sql": "CREATE TABLE applied_log (version int);\n"},
    "goose": {f"{v:05d}_t{v}.sql": f"-- +goose Up\nCREATE TABLE t{v} (x int);\nINSERT INTO applied_log VALUES ({v});\n"
              for v in range(2, 8)} | {"00001_log.sql": "-- +goose Up\nCREATE TABLE applied_log (version int);\n"},
    "dbmate": {f"{v:04d}_t{v}.sql": f"-- migrate:up\nCREATE TABLE t{v} (x int);\nINSERT INTO applied_log VALUES ({v});\n"
               f"-- migrate:down\nDROP TABLE t{v};\n" for v in range(2, 8)}
              | {"0001_log.sql": "-- migrate:up\nCREATE TABLE applied_log (version int);\n-- migrate:down\n"},
    "flyway": {f"V{v}__t{v}.sql": f"CREATE TABLE t{v} (x int);\nINSERT INTO applied_log VALUES ({v});\n"
               for v in range(2, 8)} | {"V1__log.sql": "CREATE TABLE applied_log (version int);\n"},
}


@pytest.mark.parametrize("topology", ["direct", "transaction", "session"])
@pytest.mark.parametrize("tool", sorted(HERD) + ["prisma"])
def test_each_file_once_across_a_herd_of_every_format(server, tmp_path, tool, topology):
    """Directly, and through PgBouncer in transaction and in session pooling (a pool of 2 for 4 replicas)."""
    db = server.new_database()
    server.psql(f"GRANT ALL ON DATABASE {db} TO app; ALTER DATABASE {db} OWNER TO app")
    if tool == "prisma":
        migrations = tmp_path / "m"
        in_subdirectory(migrations / "1_log", {"migration.sql": "CREATE TABLE applied_log (version int);\n"})
        for v in range(2, 8):
            in_subdirectory(migrations / f"{v}_t{v}", {"migration.sql": f"CREATE TABLE t{v} (x int);\n"
                                                                          f"INSERT INTO applied_log VALUES ({v});\n"})
    else:
        migrations = write_migrations(tmp_path / "m", HERD[tool])

    def herd(dsn):
        procs = [start_pginit(["--dsn", dsn, "--migrations", str(migrations), "--migrate-timeout", "60s"])
                 for _ in range(4)]
        return [finish(proc, timeout=90) for proc in procs]
    if topology == "direct":
        results = herd(server.dsn(db=db))
    else:
        with running_pgbouncer(server, {db: (db, topology)}, pool_size=2) as bouncer:
            results = herd(bouncer.dsn(db))
    assert [r.returncode for r in results] == [0] * 4, [r.stderr[-800:] for r in results if r.returncode]
    assert server.psql("SELECT count(*), count(DISTINCT version) FROM applied_log", db=db) == "6|6"
    assert sum("applying migration" in r.stderr for r in results) == 1


def golang_migrate_key(schema, table, database):
    return (zlib.crc32(f"{schema}\0{table}\0{database}".encode()) * 1486364155) % (1 << 32)


# Each tool: a one-file directory of its format, its history table, and the lock key it takes for it
# (computed here from the tool's formula, not by pginit), as README's "Coming from" table says.
TOOLS = {
    "golang-migrate": ({"1_a.up.sql": "CREATE TABLE a (x int);\n"}, "schema_migrations",
                       lambda db: golang_migrate_key("public", "schema_migrations", f"/{db}")),
    "goose": ({"1_a.sql": "-- +goose Up\nCREATE TABLE a (x int);\n"}, "goose_db_version", lambda db: 4097083626),
    "dbmate": ({"1_a.sql": "-- migrate:up\nCREATE TABLE a (x int);\n-- migrate:down\n"}, "schema_migrations", None),
    "flyway": ({"V1__a.sql": "CREATE TABLE a (x int);\n"}, "flyway_schema_history",
               lambda db: 0x466C79776179 + java_hash('"public"."flyway_schema_history"')),
    "prisma": ({"1_a/migration.sql": "CREATE TABLE a (x int);\n"}, "_prisma_migrations", lambda db: 72707369),
}


def java_hash(text):
    value = 0
    for c in text:
        value = (value * 31 + ord(c)) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def tool_directory(root, files):
    for path, text in files.items():
        in_subdirectory(root / os.path.dirname(path) if os.path.dirname(path) else root, {os.path.basename(path): text})
    return root


@pytest.mark.parametrize("tool", [t for t, (_, _, key) in TOOLS.items() if key])
def test_the_tools_own_lock_makes_pginit_wait_as_for_another_replica(server, tmp_path, tool):
    """The tool itself runs beside (it holds its own advisory lock, e.g. `prisma migrate deploy`'s
    pg_advisory_lock(72707369)): pginit waits for it, and migrates once it is free."""
    files, table, key_of = TOOLS[tool]
    db = server.new_database()
    key = key_of(db)
    migrations = tool_directory(tmp_path / "m", files)
    holder = subprocess.Popen([f"{PG_BIN}/psql", "-X", "-q", "-At", owner_dsn(server, db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        holder.stdin.write(f"SELECT pg_advisory_lock({key});\n")
        holder.stdin.flush()
        classid, objid = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
        wait_until(lambda: server.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                       f"AND classid = {classid} AND objid = {objid}") == "1")
        timed_out = run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations), "--migrate-timeout", "3s"])
        assert timed_out.returncode == 69, timed_out.stderr
        assert f"{tool}'s own lock (key {key}), which another session holds" in timed_out.stderr
    finally:
        holder.communicate(f"SELECT pg_advisory_unlock({key});\n", timeout=10)
    assert run_pginit(["--dsn", owner_dsn(server, db), "--migrations", str(migrations)]).returncode == 0
    assert server.psql(f"SELECT to_regclass('{table}') IS NOT NULL", db=db) == "t"


def test_readmes_coming_from_table_says_what_these_tests_show():
    """README's "Coming from" rows name each tool's history table and lock key as the tests above use them."""
    readme = open(os.path.join(ROOT, "README.md")).read()
    table = readme.split("<!-- formats:begin -->")[1].split("<!-- formats:end -->")[0]
    rows_by_tool = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")}
    for tool, (_, history_table, key_of) in TOOLS.items():
        row = rows_by_tool[tool]
        assert f"`{history_table}`" in row, tool
        if tool == "dbmate":
            assert "`search_path`" in row  # the real directory's test gives pginit dbmate's own URL
        if tool == "golang-migrate":
            assert "crc32" in row and "1486364155" in row
            assert "`x-migrations-table`" in row  # test_golang_migrates_own_url_works_as_it_is
        elif key_of:
            assert str(key_of("db")) in row, tool
        else:
            assert "none" in row, tool


# --- the real directories -------------------------------------------------------------------------------------

def schema_of(server, db, exclude):
    args = [f"{PG_BIN}/pg_dump", "-s", "--no-owner", "--no-privileges", "-h", "127.0.0.1", "-p", str(server.port), "-U",
            "postgres"]
    for table in exclude:
        args += ["-T", table]
    dump = subprocess.run(args + [db], env=dict(os.environ, PGPASSWORD=SUPERUSER_PASSWORD), check=True,
                          stdout=subprocess.PIPE, text=True).stdout
    return "\n".join(line for line in dump.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


def psql_file(server, db, path, options=""):
    env = dict(os.environ, PGPASSWORD=SUPERUSER_PASSWORD, PGOPTIONS=options)
    result = subprocess.run([f"{PG_BIN}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                             str(server.port), "-U", "postgres", "-d", db, "-f", path], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert result.returncode == 0, f"{path}: {result.stderr}"


# What each real directory needs, how its own tool applies it (the reference), and its history table.
REAL = {
    "golang-migrate-kuberpult": {"table": "schema_migrations", "history": "SELECT version, dirty FROM schema_migrations"},
    "goose-e2b": {"table": "_migrations", "options": ["--history-table", "_migrations"],
                  "history": "SELECT count(*), min(version_id), max(version_id), bool_and(is_applied) FROM _migrations"},
    "dbmate-measure": {"table": "dbmate.schema_migrations", "query": "?sslmode=disable&search_path=dbmate,measure",
                       "history": "SELECT count(*), min(version), max(version) FROM dbmate.schema_migrations"},
    "flyway-marquez": {"table": "flyway_schema_history",
                       "history": "SELECT count(*), count(version), bool_and(success) FROM flyway_schema_history"},
    "prisma-langfuse": {"table": "_prisma_migrations",
                        "history": "SELECT count(*), count(finished_at), count(DISTINCT checksum) FROM _prisma_migrations"},
}


def expected_history(name, directory, theirs):
    """The history table's rows as the tool itself writes them, derived here from the files (or, for dbmate,
    read from what the real dbmate wrote), and the query that reads them from pginit's database."""
    names = sorted(os.listdir(directory))
    if name == "golang-migrate-kuberpult":
        last = max(int(f.split("_")[0]) for f in names if f.endswith(".up.sql"))
        return "SELECT version, dirty FROM schema_migrations", [[str(last), "f"]]
    if name == "goose-e2b":
        versions = sorted(int(f.split("_")[0]) for f in names if f.endswith(".sql"))
        return ("SELECT version_id, is_applied FROM _migrations ORDER BY id",
                [["0", "t"]] + [[str(v), "t"] for v in versions])
    if name == "dbmate-measure":
        query = "SELECT version FROM dbmate.schema_migrations ORDER BY version"
        return query, rows(theirs, "real", query)
    if name == "flyway-marquez":
        order = [f for f in reference_order(name, directory)]
        return ("SELECT installed_rank, coalesce(version, ''), checksum, success FROM flyway_schema_history "
                "ORDER BY installed_rank",
                [[str(rank), f[1:f.index("__")].replace("_", ".") if f.startswith("V") else "",
                  str(flyway_checksum(open(os.path.join(directory, f)).read())), "t"]
                 for rank, f in enumerate(order, 1)])
    order = reference_order(name, directory)
    return ("SELECT migration_name, checksum FROM _prisma_migrations ORDER BY started_at",
            [[f.split("/")[0], hashlib.sha256(open(os.path.join(directory, f), "rb").read()).hexdigest()]
             for f in order])


def prepare(server, db, name):
    if name == "dbmate-measure":  # what the application's init script does before the first file
        server.psql("CREATE SCHEMA measure; CREATE SCHEMA dbmate;", db=db)
        for role in ("operator", "reader"):
            server.psql(f"DO $$BEGIN CREATE ROLE {role} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$")


def goose_up_section(text):
    return text.split("-- +goose Down")[0]


def reference_order(name, directory):
    """The files to apply, in the order the tool itself applies them (computed here, not by pginit)."""
    names = sorted(os.listdir(directory))
    if name == "golang-migrate-kuberpult":
        return sorted((f for f in names if f.endswith(".up.sql")), key=lambda f: int(f.split("_")[0]))
    if name == "goose-e2b":
        return sorted((f for f in names if f.endswith(".sql")), key=lambda f: int(f.split("_")[0]))
    if name == "flyway-marquez":
        versioned = [f for f in names if f.startswith("V") and f.endswith(".sql")]
        files = sorted(versioned, key=lambda f: [int(p) for p in f[1:f.index("__")].replace("_", ".").split(".")])
        return files + sorted(f for f in names if f.startswith("R__"))
    subdirectories = [n for n in names if os.path.isdir(os.path.join(directory, n))]
    order = subprocess.run(["node", "-e", "console.log(JSON.stringify(JSON.parse(process.argv[1]).sort("
                            "(a, b) => a.localeCompare(b))))", json.dumps(subdirectories)],
                           capture_output=True, text=True, check=True).stdout
    return [os.path.join(n, "migration.sql") for n in json.loads(order)]


def apply_as_the_tool_does(server, db, name, directory, tmp_path):
    """The reference: the tool itself for dbmate, else every file's up part in the tool's order with psql."""
    if name == "dbmate-measure":
        url = owner_dsn(server, db, REAL[name]["query"])  # the very URL pginit is given
        done = subprocess.run([DBMATE, "--url", url, "--migrations-dir", directory, "--no-dump-schema", "up"],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return
    files = reference_order(name, directory)
    for file in files:
        path = os.path.join(directory, file)
        if name == "goose-e2b":
            up = tmp_path / "up.sql"
            up.write_text(goose_up_section(open(path).read()))
            path = str(up)
        psql_file(server, db, path)


@pytest.mark.parametrize("name", realworld_migration_directories())
def test_a_real_directory_applies_as_its_tool_applies_it_and_once(tmp_path, name):
    """Two fresh servers (goose-e2b creates cluster-wide roles without IF NOT EXISTS): pginit on one, the
    tool's own way on the other; the same pg_dump -s, the tool's history table, and a second run of pginit
    with nothing to do."""
    spec, directory = REAL[name], os.path.join(REALWORLD_MIGRATIONS, name)
    with running_server() as ours, running_server() as theirs:
        for server in (ours, theirs):
            server.psql("CREATE DATABASE real")
            prepare(server, "real", name)
        args = ["--dsn", owner_dsn(ours, "real", spec.get("query", "")), "--migrations", directory,
                *spec.get("options", [])]
        applied = run_pginit(args, timeout=600)
        assert applied.returncode == 0, applied.stderr[-3000:]
        files = applied.stderr.count("applied migration")
        apply_as_the_tool_does(theirs, "real", name, directory, tmp_path)
        excluded = [spec["table"], "public.pginit_migrations_lease", "public.pginit_migrations_fingerprints"]
        assert schema_of(ours, "real", excluded) == schema_of(theirs, "real", excluded)
        query, expected = expected_history(name, directory, theirs)
        assert rows(ours, "real", query) == expected, "the history table is not as the tool writes it"
        history = ours.psql(spec["history"], db="real")
        rerun = run_pginit(args, timeout=600)
        assert rerun.returncode == 0 and "applying migration" not in rerun.stderr, rerun.stderr[-2000:]
        assert ours.psql(spec["history"], db="real") == history
    print(f"\n{name}: {files} migrations applied, schema as the tool's own way, history {history}")
