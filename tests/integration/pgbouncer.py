"""A throwaway PgBouncer in front of a PgServer: free loopback port, as the non-root user 'postgres', SCRAM
logins from an auth_file, one pool per database entry; stopped by pid. Bookworm's 1.18 from the host, or
(PGINIT_PGBOUNCER=1.24, or `version`) trixie's 1.24 run with chroot in the root that holds trixie's
PostgreSQL 17 (pgserver.server_root)."""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from pgserver import APP_PASSWORD, PG_BIN, SUPERUSER_PASSWORD, free_port, server_root, user_ids

PGBOUNCER = "/usr/sbin/pgbouncer"
PGBOUNCER_VERSION = os.environ.get("PGINIT_PGBOUNCER", "1.18")
# The root whose Debian suite has each PgBouncer besides the host's (by the PostgreSQL it holds).
PGBOUNCER_ROOTS = {"1.24": 17}


class PgBouncer:
    """`databases` maps a name clients use to (server database, pool_mode) or (server database, pool_mode,
    pool_size): a pool of that many server connections instead of `pool_size`. Settings such as
    server_login_retry go in `settings`."""

    def __init__(self, server, databases, pool_size=3, settings=None, prefix=(), version=None):
        self.server = server
        self.version = version or PGBOUNCER_VERSION
        self.root = server_root(PGBOUNCER_ROOTS[self.version]) if self.version in PGBOUNCER_ROOTS else None
        self.netns_prefix = list(prefix)  # e.g. `ip netns exec NS`: PgBouncer then listens in that namespace
        self.prefix = self.netns_prefix + (["chroot", self.root] if self.root else [])
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="pginit-pgbouncer-", dir=os.path.join(self.root, "tmp") if self.root else None)
        self.inner_dir = self.dir[len(self.root):] if self.root else self.dir  # as PgBouncer sees it
        self.ini = os.path.join(self.dir, "pgbouncer.ini")
        self.log = os.path.join(self.dir, "pgbouncer.log")
        self.process = None
        entries = "\n".join(f"{name} = host=127.0.0.1 port={server.port} dbname={entry[0]} pool_mode={entry[1]}"
                            + (f" pool_size={entry[2]}" if len(entry) > 2 else "") for name, entry in databases.items())
        extra = "\n".join(f"{key} = {value}" for key, value in (settings or {}).items())
        with open(os.path.join(self.dir, "userlist.txt"), "w") as f:
            # Plain text passwords serve both the client's SCRAM login and PgBouncer's own server login.
            f.write(f'"app" "{APP_PASSWORD}"\n"postgres" "{SUPERUSER_PASSWORD}"\n')
        with open(self.ini, "w") as f:
            f.write(f"[databases]\n{entries}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {self.port}\n"
                    f"unix_socket_dir =\nauth_type = scram-sha-256\nauth_file = {self.inner_dir}/userlist.txt\n"
                    f"admin_users = postgres\ndefault_pool_size = {pool_size}\nmax_client_conn = 2000\n"
                    f"logfile = {self.inner_dir}/pgbouncer.log\nlog_connections = 1\nlog_disconnections = 1\n{extra}\n")
        owner = user_ids("postgres", self.root)
        for path in (self.dir, self.ini, os.path.join(self.dir, "userlist.txt")):
            os.chown(path, *owner)
            os.chmod(path, 0o700 if path == self.dir else 0o600)

    def start(self):
        # setpriv execs (su and runuser fork): the pid we keep is PgBouncer's own.
        logged_before = self.log_text().count("process up")
        self.process = subprocess.Popen(self.prefix + ["setpriv", "--reuid=postgres", "--regid=postgres",
                                                       "--init-groups", PGBOUNCER, f"{self.inner_dir}/pgbouncer.ini"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.netns_prefix:  # not reachable from here: its log says when it listens
                if self.log_text().count("process up") > logged_before:
                    return
            else:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited with {self.process.returncode}: {self.log_text()[-2000:]}")
            time.sleep(0.02)
        raise RuntimeError("pgbouncer did not start listening")

    def stop(self, how=signal.SIGTERM):
        """SIGTERM ends PgBouncer at once and every client and server connection with it; SIGKILL as a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(how)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self):
        self.stop()
        self.start()

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self):
        with contextlib.suppress(FileNotFoundError), open(self.log) as f:
            return f.read()
        return ""

    def login_attempts(self, database=None):
        return sum(1 for line in self.log_text().splitlines()
                   if "login attempt" in line and (database is None or f"db={database} " in line))

    def dsn(self, database, user="app", password=APP_PASSWORD):
        return f"postgres://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def admin(self, command):
        env = dict(os.environ, PGPASSWORD=SUPERUSER_PASSWORD)
        out = subprocess.run([f"{PG_BIN}/psql", "-X", "-At", "-h", "127.0.0.1", "-p", str(self.port), "-U",
                              "postgres", "-d", "pgbouncer", "-c", command], env=env, capture_output=True, text=True)
        return out.stdout


@contextlib.contextmanager
def running_pgbouncer(server, databases, **kwargs):
    """A started PgBouncer, stopped and removed at the end even on failure."""
    bouncer = PgBouncer(server, databases, **kwargs)
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.destroy()
