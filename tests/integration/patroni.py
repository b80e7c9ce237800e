"""A throwaway 3-node Patroni cluster (Debian's patroni 3.0, etcd 3.4, HAProxy 2.6) on free loopback
ports: etcd (v3 API), three Patroni-managed Postgres 15 nodes, and HAProxy routing to the leader (Patroni's
REST check GET /primary). Patroni and Postgres run as the user 'postgres'; every process is stopped by
pid at the end, replicas before the leader so that none promotes itself on the way down."""
import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import yaml

from pgserver import APP_PASSWORD, PG_BIN, SUPERUSER_PASSWORD, free_port

NODES = (1, 2, 3)


def _http(url, method="GET", body=None, timeout=2):
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return None, ""


class PatroniCluster:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pginit-patroni-")
        self.etcd_port, self.etcd_peer_port = free_port(), free_port()
        self.pg_ports = {n: free_port() for n in NODES}
        self.rest_ports = {n: free_port() for n in NODES}
        self.haproxy_port = free_port()
        self.processes = {}  # name -> Popen
        owner = pwd.getpwnam("postgres")
        self.uid, self.gid = owner.pw_uid, owner.pw_gid
        os.chown(self.dir, self.uid, self.gid)
        self.bootstrap_script = os.path.join(self.dir, "post_bootstrap.sh")
        with open(self.bootstrap_script, "w") as f:
            # Patroni calls it once, on the bootstrapping node, with a superuser DSN as $1.
            f.write(f"#!/bin/sh\nset -e\n{PG_BIN}/psql -X -v ON_ERROR_STOP=1 -d \"$1\" <<'SQL'\n"
                    f"CREATE ROLE app LOGIN PASSWORD '{APP_PASSWORD}' CREATEDB;\nCREATE DATABASE appdb OWNER app;\nSQL\n")
        os.chown(self.bootstrap_script, self.uid, self.gid)
        os.chmod(self.bootstrap_script, 0o700)
        for n in NODES:
            self._write_node_config(n)
        with open(os.path.join(self.dir, "haproxy.cfg"), "w") as f:
            servers = "\n".join(f"    server pg{n} 127.0.0.1:{self.pg_ports[n]} maxconn 200 check port {self.rest_ports[n]}"
                                for n in NODES)
            f.write("global\n    maxconn 1000\n\ndefaults\n    mode tcp\n    retries 2\n    timeout queue 5s\n"
                    "    timeout connect 4s\n    timeout client 30m\n    timeout server 30m\n    timeout check 2s\n\n"
                    f"listen primary\n    bind 127.0.0.1:{self.haproxy_port}\n    option httpchk GET /primary\n"
                    "    http-check expect status 200\n    default-server inter 500ms fastinter 250ms downinter 500ms "
                    f"fall 2 rise 1 on-marked-down shutdown-sessions\n{servers}\n")

    def _write_node_config(self, n):
        data = os.path.join(self.dir, f"pg{n}")
        logs = os.path.join(self.dir, f"log{n}")
        config = {
            "scope": "pginit-test", "namespace": "/service/", "name": f"pg{n}",
            "log": {"level": "WARNING", "dir": logs},
            "restapi": {"listen": f"127.0.0.1:{self.rest_ports[n]}", "connect_address": f"127.0.0.1:{self.rest_ports[n]}"},
            "etcd3": {"hosts": f"127.0.0.1:{self.etcd_port}"},
            "bootstrap": {
                # Patroni wants loop_wait + 2 x retry_timeout <= ttl.
                "dcs": {"ttl": 12, "loop_wait": 1, "retry_timeout": 5, "maximum_lag_on_failover": 1048576,
                        "postgresql": {"use_pg_rewind": True, "use_slots": True, "parameters": {
                            "wal_level": "replica", "hot_standby": "on", "wal_log_hints": "on",
                            "max_wal_senders": 10, "max_replication_slots": 10, "max_connections": 100,
                            "wal_keep_size": "128MB"}}},
                "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}],
                "post_bootstrap": self.bootstrap_script,
            },
            "postgresql": {
                "listen": f"127.0.0.1:{self.pg_ports[n]}", "connect_address": f"127.0.0.1:{self.pg_ports[n]}",
                "data_dir": data, "bin_dir": PG_BIN, "pgpass": os.path.join(self.dir, f"pgpass{n}"),
                "authentication": {"superuser": {"username": "postgres", "password": SUPERUSER_PASSWORD},
                                   "replication": {"username": "replicator", "password": "repl-" + SUPERUSER_PASSWORD}},
                "parameters": {"unix_socket_directories": self.dir, "shared_buffers": "32MB", "fsync": "off",
                               "synchronous_commit": "off"},
                # A fast checkpoint, or pg_basebackup waits for the next one (minutes).
                "basebackup": [{"checkpoint": "fast"}],
                "pg_hba": ["local all all trust", "host replication replicator 127.0.0.1/32 scram-sha-256",
                           "host all all 127.0.0.1/32 scram-sha-256"],
            },
            "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False, "nosync": False},
        }
        os.makedirs(logs, exist_ok=True)
        os.chown(logs, self.uid, self.gid)
        path = os.path.join(self.dir, f"patroni{n}.yml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        os.chown(path, self.uid, self.gid)
        os.chmod(path, 0o600)

    # --- starting ------------------------------------------------------------------------------

    def _spawn(self, name, argv, as_postgres=False):
        log = open(os.path.join(self.dir, f"{name}.out"), "ab")
        if as_postgres:
            # setpriv execs (su and runuser fork): the pid we keep is the process's own.
            argv = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups",
                    "env", f"HOME={self.dir}", "PATH=/usr/bin:/bin"] + argv
        self.processes[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir)
        log.close()

    def start_etcd(self):
        etcd_data = os.path.join(self.dir, "etcd")
        self._spawn("etcd", ["etcd", "--name", "pginit-test", "--data-dir", etcd_data,
                             "--listen-client-urls", f"http://127.0.0.1:{self.etcd_port}",
                             "--advertise-client-urls", f"http://127.0.0.1:{self.etcd_port}",
                             "--listen-peer-urls", f"http://127.0.0.1:{self.etcd_peer_port}",
                             "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.etcd_peer_port}",
                             "--initial-cluster", f"pginit-test=http://127.0.0.1:{self.etcd_peer_port}",
                             "--initial-cluster-state", "new", "--enable-v2=true"])
        self._until(lambda: _http(f"http://127.0.0.1:{self.etcd_port}/health")[0] == 200, 20, "etcd is healthy")

    def start_node(self, n):
        self._spawn(f"patroni{n}", ["/usr/bin/python3", "/usr/bin/patroni", os.path.join(self.dir, f"patroni{n}.yml")],
                    as_postgres=True)

    def start_haproxy(self):
        self._spawn("haproxy", ["haproxy", "-db", "-f", os.path.join(self.dir, "haproxy.cfg")])

    def start(self, timeout=90):
        """etcd, the three nodes and HAProxy; returns once the app can write through HAProxy and both
        replicas stream."""
        self.start_etcd()
        for n in NODES:
            self.start_node(n)
        self.start_haproxy()
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout=90):
        self._until(lambda: self.leader() is not None and len(self.streaming_replicas()) == 2, timeout,
                    "a leader and two streaming replicas")
        self._until(lambda: self.psql_app("SELECT NOT pg_is_in_recovery()", port=self.haproxy_port) == "t", timeout,
                    "the app role writable through HAProxy")

    def log_tails(self, lines=15):
        tails = []
        for name in sorted(self.processes):
            path = os.path.join(self.dir, f"{name}.out")
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    tails.append(f"--- {name}.out\n" + "".join(f.readlines()[-lines:]))
        return "\n".join(tails)

    def _until(self, predicate, timeout, what):
        """The predicate's first truthy value within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            if time.monotonic() > deadline:
                # The directory goes with the fixture: the logs' tails come with the error instead.
                raise RuntimeError(f"patroni cluster: no {what} after {timeout}s\n{self.log_tails()}")
            time.sleep(0.2)
        return value

    # --- looking -------------------------------------------------------------------------------

    def leader(self):
        for n in NODES:
            if _http(f"http://127.0.0.1:{self.rest_ports[n]}/primary")[0] == 200:
                return n
        return None

    def streaming_replicas(self):
        """The members the leader streams to now (Patroni 3.0 calls a replica "running" before it
        streams, and neither a switchover nor a failover picks one that does not)."""
        leader = self.leader()
        if leader is None:
            return []
        names = self.psql("SELECT string_agg(application_name, ',') FROM pg_stat_replication "
                          "WHERE state = 'streaming'", node=leader, db="postgres")
        return names.split(",") if names else []

    def replica(self):
        return next(n for n in NODES if n != self.leader())

    def psql(self, sql, node=None, db="appdb", user="postgres", port=None):
        port = port or self.pg_ports[node or self.leader()]
        password = SUPERUSER_PASSWORD if user == "postgres" else APP_PASSWORD
        out = subprocess.run([f"{PG_BIN}/psql", "-X", "-At", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", db,
                              "-c", sql], env=dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="3"),
                             capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else None

    def psql_app(self, sql, port):
        return self.psql(sql, user="app", port=port)

    def haproxy_dsn(self, db="appdb"):
        return f"postgres://app:{APP_PASSWORD}@127.0.0.1:{self.haproxy_port}/{db}"

    def multi_host_dsn(self, db="appdb"):
        hosts = ",".join(f"127.0.0.1:{self.pg_ports[n]}" for n in NODES)
        return f"postgres://app:{APP_PASSWORD}@{hosts}/{db}?target_session_attrs=read-write"

    def node_dsn(self, n, db="appdb"):
        return f"postgres://app:{APP_PASSWORD}@127.0.0.1:{self.pg_ports[n]}/{db}"

    def new_database(self, name, replicated=False):
        """CREATE DATABASE on the leader, tried again while the cluster is busy (a psql that timed out
        returns None rather than raising: without this a missing database would show up much later).
        With `replicated`, also until every node has replayed it: replication is asynchronous, and a
        failover to a node that has not would lose it with the old leader."""
        deadline = time.monotonic() + 60
        exists = f"SELECT 1 FROM pg_database WHERE datname = '{name}'"
        while self.psql(exists, db="postgres") != "1":
            if time.monotonic() > deadline:
                raise RuntimeError(f"patroni cluster: could not create database {name}; see {self.dir}")
            self.psql(f"CREATE DATABASE {name} OWNER app", db="postgres")
        while replicated and any(self.psql(exists, node=n, db="postgres") != "1" for n in NODES):
            if time.monotonic() > deadline:
                raise RuntimeError(f"patroni cluster: database {name} did not reach every node; see {self.dir}")
            time.sleep(0.1)
        return name

    # --- faults --------------------------------------------------------------------------------

    def switchover(self):
        """Patroni's planned switchover to a streaming replica; returns the new leader's number."""
        old = self.leader()
        # Under a migration's write load a walsender may show "catchup" for a moment: the candidate
        # comes from one look at pg_stat_replication, not from two that may disagree.
        def streaming_candidate():
            streaming = self.streaming_replicas()
            return next((n for n in NODES if n != old and f"pg{n}" in streaming), None)
        candidate = self._until(streaming_candidate, 30, "streaming replica to switch over to")
        status, body = _http(f"http://127.0.0.1:{self.rest_ports[old]}/switchover", "POST",
                             {"leader": f"pg{old}", "candidate": f"pg{candidate}"}, timeout=30)
        assert status == 200, f"switchover refused: {status} {body}"
        return candidate

    def postmaster_pid(self, n):
        with contextlib.suppress(FileNotFoundError, ValueError), open(os.path.join(self.dir, f"pg{n}",
                                                                                   "postmaster.pid")) as f:
            return int(f.readline())
        return None

    def kill_node(self, n):
        """SIGKILL of the node's Patroni and its postmaster: a crashed machine, as far as the cluster can tell."""
        pid = self.postmaster_pid(n)
        self.processes.pop(f"patroni{n}").kill()
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def rejoin(self, n, timeout=90):
        """Starts a killed node again (pg_rewind brings it back as a replica) and waits for a healthy cluster."""
        self.start_node(n)
        self.wait_healthy(timeout)

    def reclone_lagging_nodes(self):
        """Stops every node that neither leads nor streams, removes its data directory, and starts it
        again: Patroni clones it from the leader (pg_basebackup)."""
        self._until(lambda: self.leader() is not None, 60, "leader")
        leader, streaming = self.leader(), self.streaming_replicas()
        for n in NODES:
            if n == leader or f"pg{n}" in streaming:
                continue
            self._stop(f"patroni{n}")
            pid = self.postmaster_pid(n)
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            shutil.rmtree(os.path.join(self.dir, f"pg{n}"), ignore_errors=True)
            self.start_node(n)

    # --- stopping ------------------------------------------------------------------------------

    def _stop(self, name, how=signal.SIGTERM, timeout=20):
        process = self.processes.pop(name, None)
        if process and process.poll() is None:
            process.send_signal(how)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop(self):
        self._stop("haproxy")
        leader = self.leader()
        for n in sorted(NODES, key=lambda n: n == leader):  # replicas first
            self._stop(f"patroni{n}")
        for n in NODES:  # a postmaster whose Patroni was killed stays behind
            pid = self.postmaster_pid(n)
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._stop("etcd")

    def destroy(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def patroni_cluster(start=True):
    """A PatroniCluster (started unless start=False), stopped and removed at the end even on failure."""
    cluster = PatroniCluster()
    try:
        if start:
            cluster.start()
        yield cluster
    finally:
        cluster.destroy()
