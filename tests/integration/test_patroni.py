"""Migrations across a real Patroni failover (issue 16): a 3-node cluster of Debian's patroni, etcd and
HAProxy on loopback, reached through HAProxy and through a multi-host DSN; a planned switchover and a
SIGKILL of the leader in the middle of 200 files; pginit started before the cluster exists; a replica;
and the whole production stack, app -> PgBouncer (transaction pooling) -> HAProxy -> Patroni."""
import time
import types

import pytest

from conftest import finish, run_pginit, start_pginit
from patroni import patroni_cluster
from pgbouncer import running_pgbouncer
from test_faults import wait_until
from test_migrations import write_migrations

FILES = 200


@pytest.fixture(scope="module")
def started_cluster():
    with patroni_cluster() as started:
        yield started


@pytest.fixture
def cluster(started_cluster):
    """The module's cluster, settled: a leader and two streaming replicas (the last test's fault is over)."""
    started_cluster.wait_healthy()
    return started_cluster


def slow_files(count=FILES):
    """`count` small files, each taking ~20 ms, so that a fault lands in the middle of them."""
    files = {"0001_log.sql": "CREATE TABLE applied_log (version int);\nINSERT INTO applied_log VALUES (1);\n"}
    for version in range(2, count + 1):
        files[f"{version:04d}_t{version}.sql"] = (f"CREATE TABLE t{version} (id int);\nSELECT pg_sleep(0.02);\n"
                                                  f"INSERT INTO applied_log VALUES ({version});\n")
    return files


def history_matches_schema(cluster, db, count=FILES):
    """On the node that is leader now: each file once, the history lists every file, and every table
    a file created is there."""
    assert cluster.psql("SELECT count(*), count(DISTINCT version) FROM applied_log", db=db) == f"{count}|{count}"
    assert cluster.psql("SELECT count(*), min(version), max(version) FROM pginit_migrations", db=db) == \
        f"{count}|1|{count}"
    assert cluster.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename ~ '^t[0-9]+$'",
                        db=db) == str(count - 1)


def applied(cluster, db):
    return int(cluster.psql("SELECT count(*) FROM pginit_migrations", db=db) or 0)


@pytest.mark.parametrize("route", ["haproxy", "multi-host"])
@pytest.mark.parametrize("fault", ["switchover", "SIGKILL of the leader"])
def test_a_failover_in_the_middle_of_the_migrations(cluster, tmp_path, route, fault):
    # Replicated: a multi-host DSN's first host may be a replica that has not replayed CREATE DATABASE
    # yet (libpq tries no further host once one refused the login), and a failover would lose it.
    db = cluster.new_database(f"fail_{route[:5]}_{fault[:6]}".replace("-", "_").replace(" ", "_").lower(),
                              replicated=True)
    migrations = write_migrations(tmp_path / "m", slow_files())
    dsn = cluster.haproxy_dsn(db) if route == "haproxy" else cluster.multi_host_dsn(db)
    cluster.wait_healthy()
    proc = start_pginit(["--dsn", dsn, "--migrations", str(migrations), "--timeout", "90s"])
    # pginit ending early would otherwise show only as a timeout here.
    wait_until(lambda: applied(cluster, db) >= 30 or proc.poll() is not None, timeout=90, interval=0.02)
    assert proc.poll() is None, finish(proc)
    old = cluster.leader()
    fault_at = time.monotonic()
    if fault == "switchover":
        cluster.switchover()
    else:
        cluster.kill_node(old)
    assert proc.poll() is None, "the migrations ended before the fault"
    result = finish(proc, timeout=120)
    done_after = time.monotonic() - fault_at
    assert result.returncode == 0, result.stderr
    assert "lost the connection" in result.stderr
    wait_until(lambda: cluster.leader() not in (None, old), timeout=30)
    history_matches_schema(cluster, db)
    print(f"{fault} through {route}: pginit done {done_after:.1f} s after the fault")
    if fault != "switchover":
        cluster.rejoin(old)


def test_pginit_started_before_the_cluster_exists_waits_for_it(tmp_path):
    with patroni_cluster(start=False) as fresh:
        migrations = write_migrations(tmp_path / "m", slow_files(5))
        marker = tmp_path / "app-ran"
        proc = start_pginit(["--dsn", fresh.haproxy_dsn(), "--migrations", str(migrations), "--timeout", "90s", "--",
                             "touch", str(marker)])
        time.sleep(1)
        assert proc.poll() is None
        fresh.start()
        result = finish(proc, timeout=120)
        assert result.returncode == 0, result.stderr
        assert marker.exists()
        history_matches_schema(fresh, "appdb", count=5)


def test_a_replica_answers_check_and_ready_sql_but_never_takes_migrations(cluster, tmp_path):
    replica = cluster.replica()
    dsn = cluster.node_dsn(replica)
    assert run_pginit(["--dsn", dsn, "--check"]).returncode == 0
    assert run_pginit(["--dsn", dsn, "--check", "--ready-sql", "SELECT pg_is_in_recovery()"]).returncode == 0
    not_primary = run_pginit(["--dsn", dsn, "--check", "--ready-sql", "SELECT NOT pg_is_in_recovery()"])
    assert not_primary.returncode == 69, not_primary.stderr
    migrations = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE on_a_replica (x int);\n"})
    refused = run_pginit(["--dsn", dsn, "--migrations", str(migrations), "--timeout", "2s"])
    assert refused.returncode == 69, refused.stderr
    assert "the server is in recovery (a standby): migrations need the primary" in refused.stderr


def test_the_production_stack_app_pgbouncer_haproxy_patroni_survives_a_failover(cluster, tmp_path):
    db = cluster.new_database("stack", replicated=True)
    migrations = write_migrations(tmp_path / "m", slow_files())
    haproxy = types.SimpleNamespace(port=cluster.haproxy_port)
    cluster.wait_healthy()
    with running_pgbouncer(haproxy, {db: (db, "transaction")}, settings={"server_login_retry": 1}) as bouncer:
        procs = [start_pginit(["--dsn", bouncer.dsn(db), "--migrations", str(migrations), "--timeout", "120s", "--",
                               "true"]) for _ in range(5)]
        wait_until(lambda: applied(cluster, db) >= 30, timeout=60, interval=0.02)
        old = cluster.leader()
        fault_at = time.monotonic()
        cluster.kill_node(old)
        results = [finish(proc, timeout=180) for proc in procs]
        done_after = time.monotonic() - fault_at
    for result in results:
        assert result.returncode == 0, result.stderr
    assert sum("applying migration" in r.stderr for r in results) >= 1
    history_matches_schema(cluster, db)
    print(f"SIGKILL of the leader behind PgBouncer and HAProxy: 5 replicas done {done_after:.1f} s after the fault")
    cluster.rejoin(old)
