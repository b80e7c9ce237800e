"""Figures 8, 9 and 10, and GitLab's schema: applying migrations against psql, dbmate and Django,
each into a fresh database of the bench's own server."""
import glob
import os
import subprocess
import sys
import textwrap
import time
import uuid

import common
from common import PSQL, PYTHON, ROOT, Section, Stats, dsn, hyperfine, superuser_env
from resources import dbmate_binary

DJANGO = os.path.join(ROOT, "examples", "django")
from realworld import REALWORLD_SQL  # noqa: E402  (tests/integration is on the path through common)

GITLAB = os.path.join(REALWORLD_SQL, "gitlab.sql")
GITLAB_TITLE = "11. GitLab's db/structure.sql (2.7 MB, 14,583 statements) into a fresh database"


def fresh_database(server):
    name = "bench_" + uuid.uuid4().hex[:10]
    server.psql(f"CREATE DATABASE {name}")
    return name


def timed(argv, **kwargs):
    started = time.monotonic()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    return time.monotonic() - started


def timed_with_cpu(argv, server, **kwargs):
    """Wall time, the client's CPU time and the server's (its backend's) CPU time of one run."""
    server_before = server.exited_processes_cpu_seconds()
    started = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    errors = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    assert status == 0, f"{argv[0]} failed: {errors[-500:]}"
    time.sleep(0.3)  # the backend ends after its client and the postmaster reaps it
    return wall, usage.ru_utime + usage.ru_stime, server.exited_processes_cpu_seconds() - server_before


def psql_argv(server, db, *args, stop_on_error=True):
    return [PSQL, "-X", "-q", *(["-v", "ON_ERROR_STOP=1"] if stop_on_error else []), "-h", "127.0.0.1", "-p",
            str(server.port), "-U", "postgres", "-d", db, *args]


def write_small_migrations(directory, count):
    """COUNT files, each a table and a row; plus the same as one file and as dbmate's layout."""
    os.makedirs(os.path.join(directory, "pginit"))
    os.makedirs(os.path.join(directory, "dbmate"))
    with open(os.path.join(directory, "all.sql"), "w") as concatenated:
        for number in range(1, count + 1):
            sql = f"CREATE TABLE t{number} (id int PRIMARY KEY, note text);\nINSERT INTO t{number} VALUES (1, 'row');\n"
            with open(os.path.join(directory, "pginit", f"{number:04d}_t{number}.sql"), "w") as f:
                f.write(sql)
            with open(os.path.join(directory, "dbmate", f"{number:04d}_t{number}.sql"), "w") as f:
                f.write(f"-- migrate:up\n{sql}\n-- migrate:down\nDROP TABLE t{number};\n")
            concatenated.write(sql)


def many_small_files(server, directory):
    count = common.trials(1000, quick=20)
    write_small_migrations(directory, count)
    files = os.path.join(directory, "pginit")
    tools = {
        "psql -1 -f, once per file (a shell loop)": lambda db: [
            "sh", "-c", 'for f in "$0"/*.sql; do "$@" -f "$f" || exit 1; done', files] + psql_argv(server, db, "-1"),
        "psql -1 -f of all files concatenated": lambda db: psql_argv(server, db, "-1", "-f",
                                                                     os.path.join(directory, "all.sql")),
    }
    if dbmate_binary():
        tools["dbmate up (npm)"] = lambda db: [dbmate_binary(), "--url", dsn(server, db) + "?sslmode=disable",
                                               "--migrations-dir", os.path.join(directory, "dbmate"),
                                               "--no-dump-schema", "up"]
    for label, path in common.pginit_builds():
        tools[label] = lambda db, path=path: [path, "--quiet", "--no-wait", "--dsn", dsn(server, db), "--migrations",
                                              files]
    times = {name: [] for name in tools}
    for repeat in range(common.trials(5, quick=1)):
        for name in list(tools)[repeat % len(tools):] + list(tools)[:repeat % len(tools)]:
            db = fresh_database(server)
            times[name].append(timed(tools[name](db), env=superuser_env()))
            assert server.psql(f"SELECT count(*) FROM t{count}", db=db) == "1"
            server.psql(f"DROP DATABASE {db}")  # no work left for autovacuum in later figures
    single = "psql -1 -f of all files concatenated"
    loop = "psql -1 -f, once per file (a shell loop)"
    rows = [[name, f"{Stats(values).min:.2f}", f"{Stats(values).median:.2f}",
             f"{Stats(values).median / Stats(times[single]).median:.2f}x"] for name, values in times.items()]
    section = Section("many_files", f"8. {count} small SQL migrations (a table and a row each) into an empty database",
                      common.table(["tool", "min s", "median s", "median vs one psql"], rows))
    for label, _ in common.pginit_builds():
        ours = Stats(times[label]).median
        section.goals.append((f"{label} ≤ 1.2x the single psql", ours <= 1.2 * Stats(times[single]).median,
                              f"{ours / Stats(times[single]).median:.2f}x"))
        section.goals.append((f"{label} ≥ 4x faster than the psql loop", Stats(times[loop]).median >= 4 * ours,
                              f"{Stats(times[loop]).median / ours:.1f}x faster"))
    return section


def write_replica_migrations(directory, count):
    os.makedirs(directory)
    with open(os.path.join(directory, "0000_log.sql"), "w") as f:
        f.write("CREATE TABLE applied_log (version int, at timestamptz DEFAULT clock_timestamp());\n")
    with open(os.path.join(directory, "..", "replicas-all.sql"), "w") as everything:
        everything.write("CREATE TABLE applied_log (version int, at timestamptz DEFAULT clock_timestamp());\n")
        for number in range(1, count + 1):
            sql = textwrap.dedent(f"""\
                CREATE TABLE r{number} (id bigserial PRIMARY KEY, payload text);
                INSERT INTO r{number} (payload) SELECT md5(g::text) FROM generate_series(1, 2000) g;
                CREATE INDEX r{number}_payload ON r{number} (payload);
                INSERT INTO applied_log (version) VALUES ({number});
                """)
            with open(os.path.join(directory, f"{number:04d}_r{number}.sql"), "w") as f:
                f.write(sql)
            everything.write(sql)


def replicas_at_once(server, directory):
    replicas, count = common.trials(30, quick=3), common.trials(50, quick=5)
    migrations = os.path.join(directory, "replicas")
    write_replica_migrations(migrations, count)
    pginit = common.pginit_builds()[0][1]

    def pginit_argv(db):
        return [pginit, "--quiet", "--dsn", dsn(server, db), "--migrations", migrations, "--migrate-timeout", "120s",
                "--", "true"]
    alone = timed(pginit_argv(fresh_database(server)))

    def all_at_once(argv):
        started = time.monotonic()
        procs = [subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                  env=superuser_env()) for _ in range(replicas)]
        ends, errors = [], 0
        for proc in procs:
            _, err = proc.communicate()  # no timeout: Popen would then poll for the exit
            ends.append(time.monotonic() - started)
            errors += err.count("ERROR")
            errors += proc.returncode != 0 and "ERROR" not in err
        return max(ends), errors

    def duplicates(db):
        return int(server.psql("SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) n FROM applied_log "
                               "GROUP BY version) v", db=db))
    ours_db = fresh_database(server)
    ours_last, ours_errors = all_at_once(pginit_argv(ours_db))
    applied = int(server.psql("SELECT count(*) FROM pginit_migrations", db=ours_db))
    psql_db = fresh_database(server)
    # As a start-up script would: every replica runs everything, going on after errors.
    psql_last, psql_errors = all_at_once(psql_argv(server, psql_db, "-f", os.path.join(directory, "replicas-all.sql"),
                                                   stop_on_error=False))
    rows = [[f"{replicas} × {os.path.basename(pginit)} (static if built)", f"{applied}/{count + 1}",
             duplicates(ours_db), ours_errors, f"{ours_last:.2f}"],
            [f"{replicas} × psql -f of everything", "-", duplicates(psql_db), psql_errors, f"{psql_last:.2f}"]]
    section = Section("replicas", f"9. {replicas} replicas started at once on a fresh database with {count} "
                                  f"migrations, each then starting `true` (one replica alone: {alone:.2f} s)",
                      common.table(["replicas", "files in history", "double applications", "errors",
                                    "last app up after, s"], rows))
    section.goals.append(("each file applied once", applied == count + 1 and duplicates(ours_db) == 0,
                          f"{applied} files, {duplicates(ours_db)} doubles"))
    section.goals.append(("last app up ≤ one migration run + 1 s", ours_last <= alone + 1.0,
                          f"{ours_last:.2f} s vs {alone:.2f} s + 1 s"))
    return section


def fingerprint_skip(server):
    db = fresh_database(server)
    env = dict(superuser_env(), DB_HOST="127.0.0.1", DB_PORT=str(server.port), DB_NAME=db, DB_USER="postgres",
               DB_PASS=common.SUPERUSER_PASSWORD)
    pginit = common.pginit_builds()[0][1]
    migrate = f"{PYTHON} manage.py migrate --noinput"
    with_fingerprint = [pginit, "--quiet", "--dsn", dsn(server, db), "--migrate-cmd", migrate,
                        "--migrate-fingerprint", "*/migrations/*.py", "--", "true"]
    subprocess.run(with_fingerprint, check=True, cwd=DJANGO, env=env, stdout=subprocess.DEVNULL)  # migrates once
    commands = {"pginit, migrate skipped (fingerprint unchanged)": with_fingerprint,
                "pginit, no migrate step at all": [pginit, "--quiet", "--dsn", dsn(server, db), "--", "true"],
                "manage.py migrate --noinput at every start": ["sh", "-c", f"{migrate} >/dev/null && true"]}
    stats = hyperfine(commands, runs=common.trials(20, quick=2), warmup=1, env=env, cwd=DJANGO)
    baseline = "pginit, no migrate step at all"
    section = Section("fingerprint", "10. A replica's start when Django's `manage.py migrate` has nothing to do "
                                     "(the course's app, examples/django)", common.timing_table(stats, baseline))
    added = stats["pginit, migrate skipped (fingerprint unchanged)"].median - stats[baseline].median
    section.goals.append(("≤ 30 ms added vs no migrate step", added <= 0.030, f"{added * 1000:.1f} ms added"))
    for leftover in glob.glob(os.path.join(DJANGO, "**", "__pycache__"), recursive=True):
        subprocess.run(["rm", "-rf", leftover], check=True)
    return section


ONE_QUERY = """import sys, psycopg2
text = "".join(line for line in open(sys.argv[2]) if not line.startswith(("\\\\restrict", "\\\\unrestrict")))
with psycopg2.connect(sys.argv[1]) as connection:
    connection.cursor().execute(text)
"""


def gitlab_schema(server, directory):
    section = Section("gitlab", GITLAB_TITLE, "")
    if not os.path.exists(GITLAB):
        print(f"skipped: no {GITLAB} (the real-world dumps live in ../shared; set PGINIT_REALWORLD_SQL)",
              file=sys.stderr)
        section.notes.append(f"Not measured: no {GITLAB}.")
        return section
    migrations = os.path.join(directory, "gitlab")
    os.makedirs(migrations)
    os.symlink(GITLAB, os.path.join(migrations, "0001_structure.sql"))
    pginit = common.pginit_builds()[0]
    floor = "the whole file as one query string (psycopg2): the least a client can cost"
    tools = {"psql -X -1 -f": lambda db: psql_argv(server, db, "-1", "-f", GITLAB),
             pginit[0]: lambda db: [pginit[1], "--quiet", "--no-wait", "--dsn", dsn(server, db), "--migrations",
                                    migrations],
             floor: lambda db: [PYTHON, "-c", ONE_QUERY, dsn(server, db), GITLAB]}
    runs = {name: [] for name in tools}
    for repeat in range(common.trials(5, quick=1)):
        for name in (list(tools) if repeat % 2 == 0 else list(reversed(tools))):
            db = fresh_database(server)
            runs[name].append(timed_with_cpu(tools[name](db), server, env=superuser_env()))
            server.psql(f"DROP DATABASE {db}")
    median = {name: [Stats([run[i] for run in values]).median for i in range(3)] for name, values in runs.items()}
    baseline = median["psql -X -1 -f"]
    rows = [[name, f"{Stats([run[0] for run in values]).min:.2f}", f"{median[name][0]:.2f}",
             f"{median[name][0] / baseline[0]:.2f}x", f"{median[name][2]:.2f}", f"{median[name][2] / baseline[2]:.2f}x",
             f"{median[name][1]:.2f}"] for name, values in runs.items()]
    section = Section("gitlab", GITLAB_TITLE,
                      common.table(["tool", "min s", "median s", "median vs psql", "server CPU s",
                                    "server CPU vs psql", "client CPU s"], rows),
                      notes=["pginit and psql send the same 14,583 statements (tests/integration/"
                             "test_realworld_sql.py checks that): psql waits for each answer before it sends the "
                             "next statement; pginit sends them all as one pipeline and reads the answers as they "
                             "come. Server CPU is the CPU time of the server processes that ended during the run (the "
                             "session's backend, and any autovacuum worker; medians are per column); client CPU that "
                             "of the tool itself (for psycopg2, Python's start-up too).",
                             "The last row is the floor for any client: the server parses and runs the same "
                             "statements, but gets them all at once in one message."])
    ours = median[pginit[0]][0]
    section.goals.append(("pginit ≤ 0.8x psql -1 -f", ours <= 0.8 * baseline[0], f"{ours / baseline[0]:.2f}x"))
    return section
