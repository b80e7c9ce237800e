"""Dockerfile.debian and Dockerfile.alpine, built and run with a real Docker engine as users will
(issue 9): pginit is PID 1 as a non-root user, waits, migrates, supervises, and `docker stop` gets
the child's own exit code back at once."""
import os
import re
import subprocess
import time
import uuid

import pytest

from harness import ROOT
from pgserver import APP_PASSWORD, free_port

CHILD = ('echo "child pid=$$ ppid=$PPID uid=$(id -u)"; trap "echo got SIGTERM; exit 7" TERM; '
         'while :; do sleep 0.1; done')


def wait_for_log(runner, container, pattern, timeout=60):
    """The container's logs once `pattern` (a regular expression) matches them; runner is engine.docker
    or a Podman."""
    deadline = time.monotonic() + timeout
    while True:
        logs = runner("logs", container, check=False).stdout
        if re.search(pattern, logs):
            return logs
        assert time.monotonic() < deadline, f"{pattern!r} never appeared in the logs:\n{logs}"
        time.sleep(0.2)


def mounted_migrations(tmp_path, table):
    """A migrations directory with one file creating `table`, readable by the image's user (nobody)."""
    migrations = tmp_path / "migrations"
    migrations.mkdir(mode=0o755)
    (migrations / f"0001_{table}.sql").write_text(f"CREATE TABLE {table} (x int);\n")
    tmp_path.chmod(0o755)
    return migrations


def inspect(engine, target, template):
    return engine.docker("inspect", "-f", template, target).stdout.strip()


@pytest.mark.parametrize("flavour", ["debian", "alpine"])
def test_pid1_waits_migrates_supervises_and_docker_stop_returns_the_childs_code(engine, images, pg, tmp_path,
                                                                               flavour):
    db = pg.new_database()
    migrations = mounted_migrations(tmp_path, "from_the_image")
    name = f"pginit-test-{uuid.uuid4().hex[:8]}"
    engine.docker("run", "-d", "--name", name, "--network", "host", "-v", f"{migrations}:/migrations:ro",
                  images[flavour], "--dsn", pg.dsn(db=db), "--migrations", "/migrations", "--", "sh", "-c", CHILD)
    try:
        # pginit's own log names the command, which holds "child pid=" too: wait for the child's line.
        logs = wait_for_log(engine.docker, name, r"child pid=\d+")
        assert "ppid=1 " in logs, f"pginit should be PID 1, the child's parent:\n{logs}"
        assert "uid=65534" in logs
        assert "applied migration 0001_from_the_image.sql" in logs
        assert APP_PASSWORD not in logs
        assert inspect(engine, name, "{{.Path}}") == "pginit"
        started = time.monotonic()
        engine.docker("stop", "-t", "10", name)
        stopped_after = time.monotonic() - started
        assert inspect(engine, name, "{{.State.ExitCode}}") == "7", "the child's exit code, not 137"
        # Half of -t 10: on the SIGTERM, not at docker's SIGKILL; not a speed (the host runs other phases beside).
        assert stopped_after < 5.0, f"docker stop took {stopped_after:.2f}s: SIGTERM did not reach the child"
        assert "got SIGTERM" in engine.docker("logs", name).stdout
        print(f"\n{flavour}: docker stop -t 10 took {stopped_after:.2f}s")
    finally:
        engine.docker("rm", "-f", name, check=False)
    assert pg.psql("SELECT to_regclass('from_the_image') IS NOT NULL", db=db) == "t"


@pytest.mark.parametrize("flavour", ["debian", "alpine"])
def test_check_is_0_when_ready_and_69_when_not(engine, images, pg, flavour):
    up = engine.docker("run", "--rm", "--network", "host", images[flavour], "--check", "--dsn", pg.dsn(), check=False)
    assert up.returncode == 0, up.stdout
    down_dsn = f"postgres://app:{APP_PASSWORD}@127.0.0.1:{free_port()}/appdb"
    down = engine.docker("run", "--rm", "--network", "host", images[flavour], "--check", "--dsn", down_dsn, check=False)
    assert down.returncode == 69, down.stdout


@pytest.mark.parametrize("flavour", ["debian", "alpine"])
def test_the_images_run_as_a_numeric_non_root_user(engine, images, flavour):
    assert inspect(engine, images[flavour], "{{.Config.User}}") == "65534:65534"
    assert inspect(engine, images[flavour], "{{json .Config.Entrypoint}}") == '["pginit"]'


def test_the_healthcheck_is_pginit_check(engine, images, pg):
    assert "pginit --check" in " ".join(
        inspect(engine, images["debian"], "{{json .Config.Healthcheck.Test}}").replace('"', "").split(","))
    name = f"pginit-health-{uuid.uuid4().hex[:8]}"
    engine.docker("run", "-d", "--name", name, "--network", "host", "--health-interval", "1s", "-e",
                  f"PGINIT_DSN={pg.dsn()}", images["debian"], "--", "sleep", "1000")
    try:
        deadline = time.monotonic() + 60
        while inspect(engine, name, "{{.State.Health.Status}}") != "healthy":
            assert time.monotonic() < deadline, "the container never became healthy"
            time.sleep(0.5)
    finally:
        engine.docker("rm", "-f", name, check=False)


def test_the_binary_stage_holds_the_binary_and_nothing_else(engine, images, tmp_path):
    container = engine.docker("create", images["binary"], "pginit").stdout.strip()
    try:
        exported = tmp_path / "binary.tar"
        engine.docker("export", "-o", str(exported), container)
    finally:
        engine.docker("rm", container)
    files = [name for name in subprocess.run(["tar", "-tf", exported], stdout=subprocess.PIPE, text=True,
                                             check=True).stdout.split() if not name.endswith("/")]
    files = [name for name in files if not name.startswith((".dockerenv", "dev/", "etc/", "proc/", "sys/"))]
    assert files == ["usr/local/bin/pginit"]
    image_size = int(inspect(engine, images["binary"], "{{.Size}}"))
    binary_size = os.path.getsize(os.path.join(ROOT, "build-static", "pginit")) if os.path.exists(
        os.path.join(ROOT, "build-static", "pginit")) else image_size
    assert image_size <= binary_size + 100_000, f"the scratch stage is {image_size} bytes, the binary {binary_size}"
    sizes = {flavour: int(inspect(engine, image, "{{.Size}}")) for flavour, image in images.items()}
    print("\nimage sizes: " + ", ".join(f"{flavour} {size / 1e6:.2f} MB" for flavour, size in sizes.items()))


def test_the_debian_package_installs_with_apt(engine, images, tmp_path):
    package = subprocess.run([os.path.join(ROOT, "scripts", "package-deb"), str(tmp_path)], check=True,
                             stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
    assert os.path.basename(package).startswith("pginit_") and package.endswith("_amd64.deb")
    tmp_path.chmod(0o755)
    result = engine.docker("run", "--rm", "--network", "host", "-v", f"{tmp_path}:/packages:ro",
                           "debian:bookworm-slim", "sh", "-c",
                           "apt-get update -qq && apt-get install -y -q --no-install-recommends "
                           f"/packages/{os.path.basename(package)} man-db >/dev/null && "
                           "command -v pginit && pginit --version && dpkg -s pginit | grep ^Version && "
                           "MANWIDTH=80 man -P cat pginit")
    assert "/usr/bin/pginit" in result.stdout
    assert "static)" in result.stdout
    assert "pginit - wait for Postgres, migrate once across replicas" in result.stdout
    assert "EXIT STATUS" in result.stdout


def test_user_runs_the_django_example_unprivileged_from_a_root_image(engine, django_image, pg):
    """The image starts as root (as official images do, to read secrets or fix a volume); --user (here
    PGINIT_USER) makes pginit, the migrate command and gunicorn run as nobody, and docker stop still
    ends the container at once with gunicorn's own exit code."""
    db, port = pg.new_database(), free_port()
    name = f"pginit-user-{uuid.uuid4().hex[:8]}"
    env = {"DB_HOST": "127.0.0.1", "DB_PORT": str(pg.port), "DB_NAME": db, "DB_USER": "app", "DB_PASS": APP_PASSWORD,
           "PGINIT_USER": "nobody"}
    env_args = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    engine.docker("run", "-d", "--name", name, "--network", "host", "--user", "0:0", *env_args, django_image,
                  "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "course.wsgi")
    try:
        wait_for_log(engine.docker, name, "Booting worker")
        processes = engine.docker("top", name, "-eo", "pid,uid,args").stdout.splitlines()[1:]
        assert processes, "no process in the container"
        uids = {line.split()[1] for line in processes}
        assert uids == {"65534"}, "every process should run as nobody:\n" + "\n".join(processes)
        assert any("gunicorn" in line for line in processes)
        assert pg.psql("SELECT count(*) > 0 FROM django_migrations", db=db) == "t"
        started = time.monotonic()
        engine.docker("stop", "-t", "10", name)
        stopped_after = time.monotonic() - started
        assert inspect(engine, name, "{{.State.ExitCode}}") == "0", "gunicorn's own exit code on TERM"
        assert stopped_after < 5.0, f"docker stop took {stopped_after:.2f}s"  # half of -t 10, as above
        print(f"\n--user nobody from a root image: docker stop took {stopped_after:.2f}s, exit 0")
    finally:
        engine.docker("rm", "-f", name, check=False)
