"""A throwaway Postgres for tests and benchmarks: initdb + pg_ctl in a temp dir, as the non-root user
'postgres', on a free loopback port. Bookworm's 15 from the host, or (PGINIT_SERVER_VERSION, or `version`)
13, 17 or 18 from Debian's own packages of bullseye, trixie and sid, run with chroot inside a debootstrap
root that scripts/lib.sh's server_root builds once and caches; clients (psql, pg_isready, pginit) stay the
host's and reach either on 127.0.0.1."""
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_BIN = "/usr/lib/postgresql/15/bin"  # the host's clients: psql, pg_isready
PGINIT = os.environ.get("PGINIT_BIN", os.path.join(os.path.dirname(__file__), "../../build/pginit"))
SERVER_VERSION = os.environ.get("PGINIT_SERVER_VERSION", "15")
SUPERUSER_PASSWORD = "su-Pw-" + uuid.uuid4().hex[:12]
APP_PASSWORD = "app-Pw-" + uuid.uuid4().hex[:12]
# Every password a test uses: none may ever appear in pginit's output.
SECRETS = {SUPERUSER_PASSWORD, APP_PASSWORD}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_root(version):
    """The root holding postgresql-VERSION: None for the host's own 15, else the cached debootstrap
    (built on first use: a test that needs it makes sure of it itself)."""
    if str(version) == "15":
        return None
    built = subprocess.run(["bash", "-c", 'source "$0/scripts/lib.sh" && server_root "$1"', ROOT, str(version)],
                           check=True, stdout=subprocess.PIPE, text=True)
    return built.stdout.strip().splitlines()[-1]


def user_ids(name, root=None):
    """(uid, gid) of `name` in the host's /etc/passwd, or in the root's."""
    with open(os.path.join(root or "/", "etc/passwd")) as f:
        for line in f:
            fields = line.split(":")
            if fields[0] == name:
                return int(fields[2]), int(fields[3])
    raise KeyError(name)


class PgServer:
    """initdb + pg_ctl in a temp dir, as the non-root user 'postgres', on a free loopback port; with
    `netns`, inside that network namespace (the test's own), reached there on 127.0.0.1 and from the
    test through its Unix socket. `version` (default PGINIT_SERVER_VERSION, 15): 13, 17 and 18 run in
    their debootstrap root; `dir` and `data` are the host's paths to them either way."""

    def __init__(self, port=None, extra_conf="", netns=None, version=None):
        self.version = str(version or SERVER_VERSION)
        self.root = server_root(self.version)
        self.bin = f"/usr/lib/postgresql/{self.version}/bin"  # the root's, or the host's
        self.port = port or free_port()
        self.netns_prefix = ["ip", "netns", "exec", netns] if netns else []
        self.prefix = self.netns_prefix + (["chroot", self.root] if self.root else [])  # for the server's own tools
        self.dir = tempfile.mkdtemp(prefix="pginit-pg-", dir=os.path.join(self.root, "tmp") if self.root else None)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        owner = user_ids("postgres", self.root)
        os.chown(self.dir, *owner)
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(SUPERUSER_PASSWORD + "\n")
        os.chown(pwfile, *owner)
        self._as_postgres([f"{self.bin}/initdb", "-D", self.inside(self.data), "-U", "postgres", "--auth-local=trust",
                           "--auth-host=scram-sha-256", f"--pwfile={self.inside(pwfile)}", "-E", "UTF8",
                           "--locale=C.UTF-8"])
        os.unlink(pwfile)
        # In a root no /dev/shm is mounted: dynamic shared memory the System V way.
        in_root = "dynamic_shared_memory_type = sysv\n" if self.root else ""
        with open(os.path.join(self.data, "postgresql.conf"), "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.inside(self.dir)}'\nfsync = off\nsynchronous_commit = off\n"
                       "full_page_writes = off\nmax_connections = 120\nshared_buffers = 32MB\n" + in_root + extra_conf)
        self.running = False
        self.superuser_password = SUPERUSER_PASSWORD

    def inside(self, path):
        """`path` as the server's tools see it: within the root, or unchanged."""
        return path[len(self.root):] if self.root and path.startswith(self.root + "/") else path

    def _as_postgres(self, argv, **kwargs):
        return subprocess.run(self.prefix + ["runuser", "-u", "postgres", "--"] + argv, check=True,
                              cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kwargs)

    def pg_ctl(self, *args, **kwargs):
        """The server's own pg_ctl on its data directory, as postgres."""
        return self._as_postgres([f"{self.bin}/pg_ctl", "-D", self.inside(self.data), *args], **kwargs)

    def start(self, wait=True):
        self.pg_ctl("-l", self.inside(self.log), "start", "-w" if wait else "-W")
        self.running = True
        if wait:
            self.setup_roles()

    def stop(self, mode="immediate"):
        """pg_ctl stop: immediate by default (tests throw the server away); "fast" leaves a clean
        shutdown, so that the next start needs no crash recovery."""
        if self.running:
            with contextlib.suppress(subprocess.CalledProcessError):
                self.pg_ctl("-m", mode, "stop")
            self.running = False

    def restart_immediately(self):
        """pg_ctl restart -m immediate: every session dies at once, as in a crash or a failover."""
        self.pg_ctl("-l", self.inside(self.log), "-m", "immediate", "-w", "restart")

    def promote(self):
        self.pg_ctl("promote", "-w")

    @classmethod
    def standby_of(cls, primary):
        """A streaming standby of `primary` (pg_basebackup -R, the same version), not started yet."""
        standby = cls(version=primary.version)
        os.rename(standby.data, standby.data + ".unused")
        env = dict(os.environ, PGPASSWORD=primary.superuser_password)
        standby._as_postgres([f"{standby.bin}/pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U",
                              "postgres", "-D", standby.inside(standby.data), "-R", "-X", "stream", "-c", "fast"],
                             env=env)
        with open(os.path.join(standby.data, "postgresql.conf"), "a") as conf:
            conf.write(f"port = {standby.port}\nunix_socket_directories = '{standby.inside(standby.dir)}'\n")
        return standby

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def psql(self, sql, db="postgres", user="postgres", check=True):
        env = dict(os.environ, PGPASSWORD=SUPERUSER_PASSWORD if user == "postgres" else APP_PASSWORD)
        host = self.dir if self.prefix else "127.0.0.1"  # in a namespace: its Unix socket, outside any fault
        out = subprocess.run([f"{PG_BIN}/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", host,
                                            "-p", str(self.port), "-U", user, "-d", db, "-c", sql],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if check and out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr}")
        return out.stdout.strip()

    def log_lines(self, *needles):
        """How many lines of the server's log hold every one of `needles`."""
        with open(self.log) as f:
            return sum(all(needle in line for needle in needles) for line in f)

    def setup_roles(self):
        if self.psql("SELECT 1 FROM pg_roles WHERE rolname = 'app'") != "1":
            self.psql(f"CREATE ROLE app LOGIN PASSWORD '{APP_PASSWORD}' CREATEDB")
            self.psql("CREATE DATABASE appdb OWNER app")

    def wait_until_accepting(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if subprocess.run(self.netns_prefix + [f"{PG_BIN}/pg_isready", "-q", "-h", "127.0.0.1", "-p",
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
