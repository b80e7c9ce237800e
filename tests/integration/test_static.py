"""What only the static binary can show (issue 8): it runs in an empty root that holds nothing but
itself, /etc/hosts and two device nodes, and opens no shared object."""
import os
import shutil
import signal
import stat
import subprocess
import time

import pytest

from conftest import PGINIT, APP_PASSWORD, assert_no_secret, clean_env
from elf import is_static_executable
from procfs import children_of

pytestmark = pytest.mark.skipif(not is_static_executable(PGINIT), reason="needs the static build (scripts/build-static)")
BUSYBOX = "/bin/busybox"  # Debian's busybox-static: a static child for the empty root


def make_empty_root(path, hosts="127.0.0.1 localhost\n"):
    """A root with only pginit, a static busybox, /etc/hosts, /dev/null and /dev/urandom."""
    for directory in ("etc", "dev", "bin", "migrations", "tmp"):
        (path / directory).mkdir(parents=True)
    shutil.copy(PGINIT, path / "pginit")
    shutil.copy(BUSYBOX, path / "bin" / "busybox")
    (path / "etc" / "hosts").write_text(hosts)
    os.mknod(path / "dev" / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(path / "dev" / "urandom", 0o444 | stat.S_IFCHR, os.makedev(1, 9))
    (path / "tmp").chmod(0o1777)
    return path


def in_root(root, argv):
    return ["chroot", str(root)] + argv


def shared_objects_mapped(pid):
    with open(f"/proc/{pid}/maps") as maps:
        return sorted({line.split()[-1] for line in maps if ".so" in line})


def test_the_binary_is_fully_static():
    assert is_static_executable(PGINIT)
    ldd = subprocess.run(["ldd", PGINIT], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert "not a dynamic executable" in ldd.stdout
    version = subprocess.run([PGINIT, "--version"], stdout=subprocess.PIPE, text=True).stdout
    assert version.startswith("pginit ") and "libpq 15." in version and "OpenSSL 3." in version
    assert version.rstrip().endswith("static)")


def test_waits_by_host_name_migrates_and_supervises_in_an_empty_root(pg, fresh_db, tmp_path):
    root = make_empty_root(tmp_path / "root", hosts="127.0.0.1 db.test\n")
    (root / "migrations" / "0001_t.sql").write_text("CREATE TABLE from_empty_root (x int);\n")
    dsn = f"postgres://app:{APP_PASSWORD}@db.test:{pg.port}/{fresh_db}"
    child = ["/bin/busybox", "sh", "-c", "echo child-ran > /tmp/marker; trap 'exit 7' TERM; "
             "while :; do /bin/busybox sleep 0.05; done"]
    proc = subprocess.Popen(in_root(root, ["/pginit", "--dsn", dsn, "--migrations", "/migrations", "--"] + child),
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not (root / "tmp" / "marker").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the child never ran"
        time.sleep(0.05)
    pginit_pid = proc.pid
    assert children_of(pginit_pid), "pginit should be supervising the child"
    assert shared_objects_mapped(pginit_pid) == []
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    assert_no_secret(out, err)
    assert proc.returncode == 7, err
    assert f"waiting for postgres at db.test:{pg.port}/{fresh_db}" in err
    assert "applied migration 0001_t.sql" in err
    assert pg.psql("SELECT to_regclass('from_empty_root') IS NOT NULL", db=fresh_db) == "t"


def test_a_missing_user_without_etc_passwd_is_a_config_error_with_a_hint(pg, tmp_path):
    root = make_empty_root(tmp_path / "root")
    result = subprocess.run(in_root(root, ["/pginit", "--dsn", f"host=127.0.0.1 port={pg.port} dbname=appdb",
                                           "--timeout", "30s"]),
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert result.returncode == 78, result.stderr
    errors = [line for line in result.stderr.splitlines() if "(exit 78)" in line]
    assert len(errors) == 1 and "could not look up local user ID 0" in errors[0], result.stderr
    assert "set the user in the DSN, PGUSER or DB_USER (exit 78)" in errors[0]
    with_user = subprocess.run(in_root(root, ["/pginit", "--check", "--dsn",
                                              f"host=127.0.0.1 port={pg.port} dbname=appdb user=app"]),
                               env=clean_env({"DB_PASS": APP_PASSWORD}), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=60)
    assert with_user.returncode == 0, with_user.stderr
