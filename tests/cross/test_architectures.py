"""Replicas of one Deployment on amd64, arm64 and s390x nodes (issue 17): every architecture computes
the same migration checksums, the same advisory-lock key and the same --migrate-fingerprint, so the
history written by one is up to date for the others, a mixed herd applies each file once, and a
fingerprint stored by one is honoured by the others. s390x is big-endian: a hash that read words in
the machine's byte order would differ there."""
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from conftest import SUPERUSER_PASSWORD, assert_no_secret, clean_env, fresh_db, pg  # noqa: E402,F401  (the integration suite's)
from elf import HOST, architecture, is_static_executable  # noqa: E402
from realworld import REALWORLD_SQL  # noqa: E402
from test_migrations import RECORDER, history, twenty_migrations, write_migrations  # noqa: E402


def binary_for(arch):
    """build-static/ holds this machine's build, build-static-ARCH/ the others (run under qemu-user)."""
    return os.path.join(ROOT, "build-static" if arch == HOST else f"build-static-{arch}", "pginit")


@pytest.fixture(scope="session")
def binaries():
    """{arch: path} for every architecture in PGINIT_ARCHITECTURES (default amd64,arm64,s390x); a
    missing or wrong binary fails the run rather than shrinking it."""
    found = {}
    for arch in os.environ.get("PGINIT_ARCHITECTURES", "amd64,arm64,s390x").split(","):
        path = binary_for(arch)
        assert os.path.exists(path), f"no {arch} build at {path}: scripts/build-static {arch}"
        assert architecture(path) == arch and is_static_executable(path), f"{path} is not a static {arch} binary"
        found[arch] = path
    return found


def run(binary, args, cwd=None, timeout=300):
    proc = subprocess.run([binary] + args, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout, cwd=cwd)
    assert_no_secret(proc.stdout, proc.stderr)
    return proc


def owner_dsn(pg, db):
    """pagila's dump ends with ALTER ... OWNER TO postgres: it is applied as the superuser."""
    return pg.dsn(user="postgres", password=SUPERUSER_PASSWORD, db=db)


def migrations_with_a_real_dump(directory):
    """Twenty small files, plus pagila's schema when the dumps are there: a checksum over hundreds of
    SHA-256 blocks, not only one or two."""
    migrations = write_migrations(directory, twenty_migrations())
    pagila = os.path.join(REALWORLD_SQL, "pagila.sql")
    if os.path.exists(pagila):
        shutil.copy(pagila, migrations / "0100_pagila.sql")
    return migrations


@pytest.mark.parametrize("writer", ["amd64", "arm64", "s390x"])
def test_history_written_by_one_architecture_is_up_to_date_for_the_others(pg, binaries, tmp_path, writer):
    db = pg.new_database()
    migrations = migrations_with_a_real_dump(tmp_path / "migrations")
    args = ["--dsn", owner_dsn(pg, db), "--migrations", str(migrations)]
    applied = run(binaries[writer], args)
    assert applied.returncode == 0, applied.stderr
    written = history(pg, db)
    assert len(written) == len(list(migrations.iterdir()))
    for arch, binary in binaries.items():
        status = run(binary, args + ["--status"])
        assert status.returncode == 0, f"{arch}: {status.stderr}"
        states = [line.split()[0] for line in status.stdout.splitlines()[1:]]
        assert states == ["applied"] * len(written), f"{arch} reads {writer}'s history as:\n{status.stdout}"
        rerun = run(binary, args)
        assert rerun.returncode == 0 and "applying migration" not in rerun.stderr, f"{arch}: {rerun.stderr}"
    assert history(pg, db) == written, "no architecture rewrote a row"


def test_every_architecture_derives_the_same_lock_key(pg, binaries, tmp_path):
    """Each architecture in turn finds a new file, so each takes the lock and logs its key."""
    db = pg.new_database()
    migrations = tmp_path / "m"
    migrations.mkdir()
    keys = {}
    for number, (arch, binary) in enumerate(binaries.items(), start=1):
        (migrations / f"{number:04d}_{arch}.sql").write_text(f"CREATE TABLE from_{arch} (x int);\n")
        result = run(binary, ["--dsn", pg.dsn(db=db), "--migrations", str(migrations), "--log-level", "debug",
                              "--log-format", "json"])
        assert result.returncode == 0, result.stderr
        records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
        keys[arch] = {record["lock_key"] for record in records if "lock_key" in record}
        assert len(keys[arch]) == 1, f"{arch} logged no single lock key:\n{result.stderr}"
    assert len(set().union(*keys.values())) == 1, keys


def test_a_mixed_herd_applies_each_file_once(pg, binaries, tmp_path):
    """Three replicas per architecture, started at once: one lock, one applier, each file once."""
    db = pg.new_database()
    migrations = migrations_with_a_real_dump(tmp_path / "migrations")
    args = ["--dsn", owner_dsn(pg, db), "--migrations", str(migrations), "--migrate-timeout", "240s"]
    procs = [(arch, subprocess.Popen([binary] + args, env=clean_env(), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True))
             for _ in range(3) for arch, binary in binaries.items()]
    results = [(arch, *proc.communicate(timeout=300), proc.returncode) for arch, proc in procs]
    for arch, out, err, code in results:
        assert_no_secret(out, err)
        assert code == 0, f"{arch}: {err}"
    appliers = [arch for arch, _, err, _ in results if "applying migration" in err]
    assert len(appliers) == 1, f"appliers: {appliers}"
    assert len(history(pg, db)) == len(list(migrations.iterdir()))
    assert pg.psql("SELECT count(*), count(DISTINCT version) FROM applied_log", db=db) == "19|19"


@pytest.mark.parametrize("writer", ["amd64", "arm64", "s390x"])
def test_a_fingerprint_stored_by_one_architecture_is_honoured_by_the_others(pg, binaries, tmp_path, writer):
    db = pg.new_database()
    (tmp_path / "app" / "migrations").mkdir(parents=True)
    (tmp_path / "app" / "migrations" / "0001_initial.py").write_text("# a django migration\n" * 40)
    (tmp_path / "migrate.py").write_text(RECORDER)
    runs = tmp_path / "runs"
    args = ["--dsn", pg.dsn(db=db), "--migrate-cmd", f"/usr/bin/python3 {tmp_path / 'migrate.py'} {runs}",
            "--migrate-fingerprint", "*/migrations/*.py"]
    first = run(binaries[writer], args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert len(runs.read_text().splitlines()) == 1
    for arch, binary in binaries.items():
        again = run(binary, args, cwd=tmp_path)
        assert again.returncode == 0, f"{arch}: {again.stderr}"
        assert "skipped the migrate command" in again.stderr, f"{arch} ran it again:\n{again.stderr}"
    assert len(runs.read_text().splitlines()) == 1
