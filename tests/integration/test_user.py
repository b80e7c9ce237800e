"""--user (issue 18): pginit reads what only root may read, then becomes the user, as gosu does, and so does
everything it starts. Differential against Debian's gosu 1.14, inside a private mount namespace whose
/etc/passwd and /etc/group are the test's own (both tools read those files themselves)."""
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import APP_PASSWORD, PGINIT, clean_env, finish, run_pginit, start_pginit
from procfs import children_of, proc_status

PASSWD = """root:x:0:0:root:/root:/bin/sh
alice:x:2001:2001:Alice:/home/alice:/bin/sh
bob:x:2002:2002::/srv/bob:/bin/sh
carol:x:2003:100:no group of her own:/home/carol:/bin/sh
# a comment, and a malformed line:
broken:x:notanumber:1::/:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
"""
GROUP = """root:x:0:
users:x:100:carol
alice:x:2001:
bob:x:2002:
dev:x:3001:alice,carol
ops:x:3002:alice
audit:x:3003:bob,alice
nogroup:x:65534:
"""
# Every form gosu accepts: names, numbers, both, a uid and a gid without an entry; users with several
# supplementary groups, one with none, one whose primary group is shared.
SPECS = ["alice", "alice:alice", "2001", "2001:2001", "alice:3002", "alice:ops", "bob", "bob:dev", "carol",
         "4242", "4242:3001", "4242:4343", "nobody", "65534:65534"]
REPORT = 'echo "uid=$(id -u) gid=$(id -g) groups=$(id -G) home=$HOME"'


@pytest.fixture
def shared_dir():
    """A directory that the user pginit becomes can reach (pytest's own are root's alone)."""
    directory = tempfile.mkdtemp(prefix="pginit-user-")
    os.chmod(directory, 0o777)
    try:
        yield pathlib.Path(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def etc(tmp_path_factory):
    directory = tmp_path_factory.mktemp("etc")
    (directory / "passwd").write_text(PASSWD)
    (directory / "group").write_text(GROUP)
    return directory


def in_our_etc(etc, argv, env=None):
    """Runs argv with the test's /etc/passwd and /etc/group, in a mount namespace of its own."""
    script = f'mount --bind {etc}/passwd /etc/passwd && mount --bind {etc}/group /etc/group && exec "$@"'
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh"] + argv,
                          env=clean_env(env), capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("spec", SPECS)
def test_user_gives_what_gosu_gives(etc, spec):
    # No HOME inherited: gosu then derives it as pginit always does.
    gosu = in_our_etc(etc, ["env", "-u", "HOME", "gosu", spec, "sh", "-c", REPORT])
    ours = in_our_etc(etc, ["env", "-u", "HOME", PGINIT, "--no-wait", "--quiet", "--user", spec, "--", "sh", "-c",
                            REPORT])
    assert gosu.returncode == 0, gosu.stderr
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == gosu.stdout
    print(f"{spec:12} gosu: {gosu.stdout.strip():60} pginit: {ours.stdout.strip()}")


def test_home_is_the_users_even_when_root_s_is_inherited(etc):
    """A HOME inherited from root (/root in a container started as root) is of no use to the app."""
    for inherited in ("/root", "/somewhere"):
        ours = in_our_etc(etc, [PGINIT, "--no-wait", "--quiet", "--user", "alice", "--", "sh", "-c", "echo $HOME"],
                          env={"HOME": inherited})
        assert ours.stdout.strip() == "/home/alice"
        # Debian's gosu 1.14 does the same (older gosu kept an inherited HOME).
        gosu = in_our_etc(etc, ["gosu", "alice", "sh", "-c", "echo $HOME"], env={"HOME": inherited})
        assert gosu.stdout.strip() == "/home/alice"


def test_root_cannot_be_had_back_after_the_drop(etc):
    ours = in_our_etc(etc, [PGINIT, "--no-wait", "--quiet", "--user", "alice", "--", "setpriv", "--reuid=0", "true"])
    assert ours.returncode != 0
    assert "Operation not permitted" in ours.stderr


@pytest.mark.parametrize("spec, message", [
    ("nosuchuser", '--user: no user "nosuchuser" in /etc/passwd (exit 78)'),
    ("alice:nosuchgroup", '--user: no group "nosuchgroup" in /etc/group (exit 78)'),
    ("a:b:c", '--user "a:b:c": expected USER or USER:GROUP (names or numeric ids) (exit 78)'),
    (":dev", '--user ":dev": expected USER or USER:GROUP (names or numeric ids) (exit 78)'),
])
def test_bad_specs_are_78_in_one_line(etc, spec, message):
    result = in_our_etc(etc, [PGINIT, "--no-wait", "--user", spec, "--", "true"])
    assert result.returncode == 78
    assert result.stderr.strip().splitlines() == [f"pginit: {message}"]


def test_not_root_only_the_current_user_may_be_named(etc, shared_dir):
    # Run from a place alice may read: a clone may lie under a directory that is root's alone (/root, a
    # mktemp -d), and qemu-user, running a foreign build, opens the binary as alice.
    binary = shutil.copy(PGINIT, shared_dir / "pginit")
    as_alice = ["setpriv", "--reuid=2001", "--regid=2001", "--clear-groups"]
    other = in_our_etc(etc, as_alice + [binary, "--no-wait", "--user", "bob", "--", "true"])
    assert other.returncode == 78
    assert "only root can become another user, and pginit runs as uid 2001 gid 2001 (exit 78)" in other.stderr
    same = in_our_etc(etc, as_alice + [binary, "--no-wait", "--quiet", "--user", "alice", "--", "sh", "-c", "id -u"])
    assert same.returncode == 0, same.stderr
    assert same.stdout.strip() == "2001"


def test_with_exec_and_in_init_container_mode(etc):
    execd = in_our_etc(etc, [PGINIT, "--no-wait", "--quiet", "--exec", "--user", "bob", "--", "sh", "-c", REPORT])
    assert execd.stdout.strip() == "uid=2002 gid=2002 groups=2002 3003 home=/srv/bob"
    init = in_our_etc(etc, [PGINIT, "--no-wait", "--user", "bob"])
    assert init.returncode == 0, init.stderr
    from_env = in_our_etc(etc, [PGINIT, "--no-wait", "--quiet", "--", "id", "-u"], env={"PGINIT_USER": "carol"})
    assert from_env.stdout.strip() == "2003"


def test_a_root_only_secret_is_used_for_the_connection_but_the_app_cannot_read_it(pg, shared_dir):
    secret = shared_dir / "db_password"
    secret.write_text(APP_PASSWORD + "\n")
    secret.chmod(0o400)  # root's alone
    env = {"DB_HOST": "127.0.0.1", "DB_PORT": str(pg.port), "DB_USER": "app", "DB_NAME": "appdb",
           "DB_PASS_FILE": str(secret)}
    result = run_pginit(["--user", "nobody", "--", "sh", "-c", f"id -u; cat {secret}"], env=env)
    assert result.returncode == 1, result.stderr  # cat's own exit code
    assert "postgres is ready" in result.stderr
    assert result.stdout.strip() == "65534"
    assert "Permission denied" in result.stderr


def test_signals_reaping_and_exit_codes_are_unchanged_after_the_drop(shared_dir):
    """As PID 1 of a PID namespace, running as nobody: an orphan is reaped, SIGTERM reaches the app, and
    pginit ends with the app's code."""
    ready = shared_dir / "ready"
    # (sleep 0.1 &) leaves an orphan that pginit, PID 1, must reap.
    app = f"(sleep 0.1 &); trap 'exit 42' TERM; echo $(id -u) > {ready}; while :; do sleep 0.05; done"
    proc = subprocess.Popen(["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", PGINIT, "--no-wait",
                             "--quiet", "--user", "nobody", "--", "bash", "-c", app], env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not ready.exists() or not ready.read_text().strip():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert ready.read_text().strip() == "65534"
        pginit = children_of(proc.pid)[0]  # PID 1 inside, running as nobody now
        assert proc_status(pginit)["Uid"].split()[0] == "65534"
        time.sleep(0.5)
        zombies = [pid for pid in children_of(pginit) if proc_status(pid)["State"].startswith("Z")]
        assert zombies == [], "the orphan was not reaped"
        os.kill(pginit, signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()  # unshare --kill-child: the namespace's PID 1 and everything in it go with it
        proc.wait()
    assert proc.returncode == 42, err


def test_migrations_run_as_the_user_too(pg, fresh_db, shared_dir):
    """The files are read after the drop, and the migrate command runs as the user."""
    migrations = shared_dir / "m"
    migrations.mkdir()
    (migrations / "0001_a.sql").write_text("CREATE TABLE as_nobody (x int);\n")
    migrations.chmod(0o755)
    proc = start_pginit(["--dsn", pg.dsn(db=fresh_db), "--user", "nobody", "--migrations", str(migrations),
                         "--migrate-cmd", "id -u", "--", "id", "-u"])
    result = finish(proc)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["65534", "65534"]
    assert pg.psql("SELECT to_regclass('as_nobody') IS NOT NULL", db=fresh_db) == "t"
