"""The wait phase against a real Postgres 15 (issue 3)."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import (APP_PASSWORD, SUPERUSER_PASSWORD, PgServer, finish, free_port, run_pginit, start_pginit)


def test_waits_for_a_server_started_later_and_exits_0_once_it_accepts():
    server = PgServer()
    try:
        dsn = f"postgres://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{server.port}/postgres"
        proc = start_pginit(["--dsn", dsn, "--timeout", "60s"])
        time.sleep(2)
        assert proc.poll() is None, "pginit gave up before the server started"
        server.start(wait=False)
        result = finish(proc, timeout=60)
        assert result.returncode == 0, result
        assert "postgres is ready after" in result.stderr
        attempts = int(result.stderr.split("attempts=")[-1].split()[0])
        assert attempts > 10, "it should have retried quickly while the server was down"
    finally:
        server.destroy()


def test_wrong_password_fails_fast_with_77_and_no_retry(pg):
    before = open(pg.log).read().count("password authentication failed")
    result = run_pginit(["--dsn", pg.dsn(password="not-the-password"), "--timeout", "30s"])
    assert result.returncode == 77, result
    assert "password authentication failed" in result.stderr
    assert "(exit 77)" in result.stderr
    assert "attempts=1" in result.stderr
    after = open(pg.log).read().count("password authentication failed")
    assert after - before == 1, "a bad password must not be retried"
    assert "not-the-password" not in result.stderr


def test_unknown_role_is_77(pg):
    result = run_pginit(["--dsn", pg.dsn(user="ghost", password="whatever-pw")])
    assert result.returncode == 77, result


def test_missing_database_is_78(pg):
    result = run_pginit(["--dsn", pg.dsn(db="no_such_db")])
    assert result.returncode == 78, result
    assert 'database "no_such_db" does not exist' in result.stderr


def test_nobody_listening_times_out_with_69():
    port = free_port()
    result = run_pginit(["--dsn", f"postgres://app:{APP_PASSWORD}@127.0.0.1:{port}/x", "--timeout", "1s"])
    assert result.returncode == 69, result
    assert "is not ready after" in result.stderr
    assert "Connection refused" in result.stderr
    assert "(exit 69)" in result.stderr


def test_check_mode_up_and_down(pg):
    assert run_pginit(["--check", "--dsn", pg.dsn()]).returncode == 0
    down = run_pginit(["--check", "--dsn", f"postgres://app:{APP_PASSWORD}@127.0.0.1:{free_port()}/x"])
    assert down.returncode == 69, down
    assert "1 attempt)" in down.stderr


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_while_waiting_stops_at_once_and_the_app_never_starts(sig, code, tmp_path):
    marker = tmp_path / "app-started"
    proc = start_pginit(["--dsn", f"postgres://app:{APP_PASSWORD}@127.0.0.1:{free_port()}/x", "--timeout", "60s",
                         "--", "touch", str(marker)])
    time.sleep(0.5)
    proc.send_signal(sig)
    result = finish(proc, timeout=5)
    assert result.returncode == code, result
    assert not marker.exists()
    assert "stopped by SIG" in result.stderr


def test_command_runs_after_the_wait_with_args_and_exit_code(pg):
    result = run_pginit(["--dsn", pg.dsn(), "--", "sh", "-c", 'printf "%s|" "$@"; exit 7', "sh", "a b", "c"])
    assert result.returncode == 7, result
    assert result.stdout == "a b|c|"


def test_exec_mode_replaces_pginit(pg):
    result = run_pginit(["--dsn", pg.dsn(), "--exec", "--", "sh", "-c", 'echo "pid-is-$$ ppid-is-$PPID"; exit 5'])
    assert result.returncode == 5, result
    assert "started the app" not in result.stderr  # exec'd, not supervised


def test_database_url_is_used(pg):
    result = run_pginit([], env={"DATABASE_URL": pg.dsn()})
    assert result.returncode == 0, result
    assert f"127.0.0.1:{pg.port}/appdb" in result.stderr


def test_postgres_image_variables_and_password_file(pg, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text(APP_PASSWORD + "\n")
    env = {"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(pg.port), "POSTGRES_USER": "app",
           "POSTGRES_DB": "appdb", "POSTGRES_PASSWORD_FILE": str(secret)}
    assert run_pginit(["--timeout", "5s"], env=env).returncode == 0
    # libpq's own PG* variables win over the aliases
    env["PGPORT"] = str(free_port())
    assert run_pginit(["--timeout", "1s"], env=env).returncode == 69


def test_django_course_variables(pg):
    env = {"DB_HOST": "127.0.0.1", "DB_NAME": "appdb", "DB_USER": "app", "DB_PASS": APP_PASSWORD,
           "PGPORT": str(pg.port)}
    result = run_pginit(["--timeout", "5s"], env=env)
    assert result.returncode == 0, result


def test_unreadable_password_file_is_78():
    result = run_pginit([], env={"POSTGRES_PASSWORD_FILE": "/nonexistent/secret"})
    assert result.returncode == 78, result
    assert "POSTGRES_PASSWORD_FILE=/nonexistent/secret" in result.stderr


def test_ready_sql_waits_for_another_services_table(pg, fresh_db):
    proc = start_pginit(["--dsn", pg.dsn(db=fresh_db), "--timeout", "30s",
                         "--ready-sql", "SELECT count(*) > 0 FROM ready_marker"])
    time.sleep(1)
    assert proc.poll() is None
    pg.psql("CREATE TABLE ready_marker (x int)", db=fresh_db, user="app")
    time.sleep(0.5)
    assert proc.poll() is None, "an empty table must not count as ready"
    pg.psql("INSERT INTO ready_marker VALUES (1)", db=fresh_db, user="app")
    result = finish(proc)
    assert result.returncode == 0, result


def test_bad_ready_sql_is_a_config_error(pg):
    result = run_pginit(["--dsn", pg.dsn(), "--ready-sql", "SELEKT 1"])
    assert result.returncode == 78, result


def test_usage_errors_are_64_with_one_line():
    result = run_pginit(["--timeout", "soon"])
    assert result.returncode == 64
    assert result.stderr.count("\n") == 1
    assert '"soon"' in result.stderr


def test_json_logs_have_the_same_fields(pg):
    result = run_pginit(["--dsn", pg.dsn(), "--log-format", "json", "--log-level", "debug"])
    assert result.returncode == 0
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert lines[0]["level"] == "info" and "waiting for postgres" in lines[0]["msg"]
    ready = [line for line in lines if "is ready after" in line["msg"]]
    assert ready and ready[0]["attempts"] == 1 and isinstance(ready[0]["elapsed_ms"], int)


def test_passwords_never_appear_even_at_debug_level(pg):
    secret = "leaky-Pw-" + "x" * 8
    dsn = f"postgresql://app:{secret}@127.0.0.1:{pg.port}/appdb?connect_timeout=2"
    for args in (["--dsn", dsn, "--log-level", "debug"], ["--dsn", dsn, "--log-format", "json", "--log-level", "debug"],
                 ["--dsn", dsn + "&bogus=1"], ["--dsn", f"host=127.0.0.1 port={pg.port} password={secret} oops"]):
        result = run_pginit(args, timeout=30)
        assert result.returncode in (77, 78), result
        assert secret not in result.stderr + result.stdout
    by_env = run_pginit(["--log-level", "debug", "--timeout", "1s"],
                        env={"PGINIT_DSN": f"postgres://app:{secret}@127.0.0.1:{free_port()}/x"})
    assert secret not in by_env.stderr
    assert by_env.returncode == 69


def test_quiet_prints_only_errors(pg):
    assert run_pginit(["--dsn", pg.dsn(), "--quiet"]).stderr == ""
    assert run_pginit(["--dsn", pg.dsn(db="nope"), "--quiet"]).stderr.count("\n") == 1


def test_help_and_version():
    assert run_pginit(["--help"]).stdout.startswith("Usage: pginit")
    assert run_pginit(["--version"]).stdout.startswith("pginit ")


def test_a_slow_ready_query_is_cancelled_on_the_server_when_its_attempt_times_out(pg):
    result = run_pginit(["--dsn", pg.dsn(), "--ready-sql", "SELECT pg_sleep(30) IS NULL", "--connect-timeout", "500ms",
                         "--timeout", "1s"])
    assert result.returncode == 69, result
    time.sleep(0.3)
    assert pg.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'") == "0"


def test_too_many_connections_is_retried_until_a_slot_frees_up():
    server = PgServer(extra_conf="max_connections = 3\nsuperuser_reserved_connections = 0\n")
    try:
        server.start()
        env = dict(os.environ, PGPASSWORD=SUPERUSER_PASSWORD)
        hogs = []
        for slot in range(3):  # one at a time: a check racing the last hog would take its slot
            hogs.append(subprocess.Popen(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(server.port), "-U",
                                          "postgres", "-c", "SELECT pg_sleep(4)"], env=env,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            if slot < 2:
                deadline = time.monotonic() + 10
                while server.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'",
                                  check=False) != str(slot + 1):
                    assert time.monotonic() < deadline, "a hog did not connect"
                    time.sleep(0.05)
        time.sleep(0.5)
        dsn = f"postgres://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{server.port}/postgres"
        result = run_pginit(["--dsn", dsn, "--timeout", "30s", "--log-level", "debug"])
        for hog in hogs:
            hog.wait(timeout=10)
        assert result.returncode == 0, result
        assert "too many clients" in result.stderr
    finally:
        server.destroy()


def test_help_and_the_reference_say_the_same_about_allow_changed():
    reference = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "reference.md")).read()
    row = next(line for line in reference.splitlines() if line.startswith("| `--allow-changed`"))
    meaning = row.split("|")[4].strip()
    help_line = next(line for line in run_pginit(["--help"]).stdout.splitlines() if "--allow-changed" in line)
    assert help_line.split("--allow-changed", 1)[1].strip() == meaning