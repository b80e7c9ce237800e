"""Shared fixtures: a throwaway Postgres 15 and a runner for the real pginit binary."""
import json
import os
import subprocess
import time

import pytest

from pgserver import (APP_PASSWORD, PGINIT, SECRETS, SUPERUSER_PASSWORD, PgServer, free_port,  # noqa: F401
                      running_server)


@pytest.fixture(scope="session")
def pg():
    with running_server() as server:
        yield server


@pytest.fixture
def fresh_db(pg):
    return pg.new_database()


def clean_env(extra=None):
    """The test's environment without any PG*/DATABASE_URL/POSTGRES_*/PGINIT_* leaking in."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PG", "DATABASE_URL", "POSTGRES_", "DB_", "PGINIT_"))}
    env.update(extra or {})
    return env


# Log fields that hold integers: in JSON logs they must be JSON numbers, not strings.
NUMERIC_FIELDS = {"attempt", "attempts", "elapsed_ms", "waited_ms", "duration_ms", "wait_ms", "migrations_ms", "pid",
                  "exit_code", "version", "statements", "files", "line", "lock_key", "applied", "retry", "statement_number"}


def assert_no_secret(*outputs):
    """Checks everything pginit printed: no password anywhere, and every JSON log line parses, with
    its integer fields as numbers. Every run in the suite goes through here."""
    for output in outputs:
        for secret in SECRETS:
            assert secret not in (output or ""), f"a password leaked into pginit's output:\n{output}"
        for line in (output or "").splitlines():
            if not line.startswith("{"):
                continue
            record = json.loads(line)
            for key in NUMERIC_FIELDS & record.keys():
                assert isinstance(record[key], int), f"{key} should be a JSON number in {line}"


class Run:
    def __init__(self, returncode, stdout, stderr, elapsed):
        self.returncode, self.stdout, self.stderr, self.elapsed = returncode, stdout, stderr, elapsed

    def __repr__(self):
        return f"Run(rc={self.returncode}, stderr={self.stderr!r}, stdout={self.stdout!r})"


def run_pginit(args, env=None, timeout=60, cwd=None, prefix=()):
    """Runs pginit (after `prefix`, e.g. `ip netns exec NS`) to completion; checks what it printed."""
    started = time.monotonic()
    proc = subprocess.run(list(prefix) + [PGINIT] + list(args), env=clean_env(env), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout, cwd=cwd)
    assert_no_secret(proc.stdout, proc.stderr)
    return Run(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


def start_pginit(args, env=None, prefix=(), **kwargs):
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(list(prefix) + [PGINIT] + list(args), env=clean_env(env), text=True, **kwargs)


def finish(proc, timeout=30):
    out, err = proc.communicate(timeout=timeout)
    assert_no_secret(out, err)
    return Run(proc.returncode, out, err, None)
