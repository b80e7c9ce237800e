"""A throwaway Postgres 15 for tests and benchmarks: initdb + pg_ctl in a temp dir, as the
non-root user 'postgres', on a free loopback port."""
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

PG_BIN = "/usr/lib/postgresql/15/bin"
PGINIT = os.environ.get("PGINIT_BIN", os.path.join(os.path.dirname(__file__), "../../build/pginit"))
SUPERUSER_PASSWORD = "su-Pw-" + uuid.uuid4().hex[:12]
APP_PASSWORD = "app-Pw-" + uuid.uuid4().hex[:12]
# Every password a test uses: none may ever appear in pginit's output.
SECRETS = {SUPERUSER_PASSWORD, APP_PASSWORD}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgServer:
    """initdb + pg_ctl in a temp dir, as the non-root user 'postgres', on a free loopback port; with
    `netns`, inside that network namespace (the test's own), reached there on 127.0.0.1 and from the
    test through its Unix socket."""

    def __init__(self, port=None, extra_conf="", netns=None):
        self.port = port or free_port()
        self.prefix = ["ip", "netns", "exec", netns] if netns else []
        self.dir = tempfile.mkdtemp(prefix="pginit-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        owner = pwd.getpwnam("postgres")
        os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(SUPERUSER_PASSWORD + "\n")
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        self._as_postgres([f"{PG_BIN}/initdb", "-D", self.data, "-U", "postgres", "--auth-local=trust",
                           "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8"])
        os.unlink(pwfile)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.dir}'\nfsync = off\nsynchronous_commit = off\n"
                       "full_page_writes = off\nmax_connections = 120\nshared_buffers = 32MB\n" + extra_conf)
        self.running = False
        self.superuser_password = SUPERUSER_PASSWORD

    def _as_postgres(self, argv, **kwargs):
        return subprocess.run(self.prefix + ["runuser", "-u", "postgres", "--"] + argv, check=True, cwd=self.dir,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kwargs)

    def start(self, wait=True):
        args = [f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", self.log, "start"]
        self._as_postgres(args + (["-w"] if wait else ["-W"]))
        self.running = True
        if wait:
            self.setup_roles()

    def stop(self, mode="immediate"):
        """pg_ctl stop: immediate by default (tests throw the server away); "fast" leaves a clean
        shutdown, so that the next start needs no crash recovery."""
        if self.running:
            subprocess.run(self.prefix + ["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", self.data, "-m",
                                          mode, "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.running = False

    def restart_immediately(self):
        """pg_ctl restart -m immediate: every session dies at once, as in a crash or a failover."""
        self._as_postgres([f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", self.log, "-m", "immediate", "-w", "restart"])

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def psql(self, sql, db="postgres", user="postgres", check=True):
        env = dict(os.environ, PGPASSWORD=SUPERUSER_PASSWORD if user == "postgres" else APP_PASSWORD)
        host = self.dir if self.prefix else "127.0.0.1"  # in a namespace: its Unix socket, outside any fault
        out = subprocess.run(self.prefix + [f"{PG_BIN}/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", host,
                                            "-p", str(self.port), "-U", user, "-d", db, "-c", sql],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if check and out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr}")
        return out.stdout.strip()

    def setup_roles(self):
        if self.psql("SELECT 1 FROM pg_roles WHERE rolname = 'app'") != "1":
            self.psql(f"CREATE ROLE app LOGIN PASSWORD '{APP_PASSWORD}' CREATEDB")
            self.psql("CREATE DATABASE appdb OWNER app")

    def wait_until_accepting(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if subprocess.run(self.prefix + [f"{PG_BIN}/pg_isready", "-q", "-h", "127.0.0.1", "-p",
                                             str(self.port)]).returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError("postgres did not start")

    def exited_processes_cpu_seconds(self):
        """User + system CPU time of the server's processes that have exited so far (backends,
        autovacuum workers): the postmaster reaps them, so the kernel adds theirs to its own."""
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            pid = int(f.readline())
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(value) for value in fields[13:15]) / os.sysconf("SC_CLK_TCK")  # cutime, cstime

    def dsn(self, user="app", password=APP_PASSWORD, db="appdb"):
        return f"postgres://{user}:{password}@127.0.0.1:{self.port}/{db}"

    def new_database(self):
        name = "db_" + uuid.uuid4().hex[:10]
        self.psql(f"CREATE DATABASE {name} OWNER app")
        return name


@contextlib.contextmanager
def running_server(**kwargs):
    """A started PgServer, stopped and removed at the end even on failure: for fixtures."""
    server = PgServer(**kwargs)
    try:
        server.start()
        yield server
    finally:
        server.destroy()
