"""A randomized fault campaign (issues 16, 25, 29), Jepsen-style: rounds of random faults against several
pginit replicas applying a random set of transactional, no-transaction and --migrate-cmd migrations, through
one of three topologies (direct, PgBouncer in session or transaction pooling with a pool of 1 to 4 server
connections, a Patroni cluster behind HAProxy). After each round the invariants below are checked; then a
clean run follows and the exactly-once invariants are checked. A round is planned from the campaign's seed
and its number alone (plan_round is pure), so any round replays from the seed that the campaign prints
first; what a round found that the checker did not expect (a database lost with a failed leader, a server
that will not answer) is that round's harness finding, never a traceback that ends the campaign."""
import collections
import contextlib
import dataclasses
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time

from conftest import clean_env, assert_no_secret
from netns import NetNamespace
from patroni import PatroniCluster
from pgbouncer import PgBouncer
from pgserver import PGINIT, PgServer

FAULTS = {
    "direct": ("server SIGKILL", "server restart", "pg_terminate_backend", "pginit SIGKILL", "pginit SIGTERM",
               "dropped packets"),
    "pgbouncer": ("server SIGKILL", "server restart", "pg_terminate_backend", "pginit SIGKILL", "pginit SIGTERM",
                  "dropped packets", "PgBouncer restart"),
    "patroni": ("Patroni switchover", "Patroni failover", "pg_terminate_backend", "pginit SIGKILL", "pginit SIGTERM"),
}
CLUSTER_FAULTS = {"Patroni switchover", "Patroni failover"}
# What a replica may end with in a round: done, a no-transaction file that failed when run again after an
# interruption (65), the deadline (69), our SIGTERM (143), our SIGKILL (-9, from the kernel).
DOCUMENTED_EXITS = {0, 65, 69, 143, -9}
REPLICA_LIMIT = 90  # seconds: a replica's --timeout is 60s; past this it outlived its limits
KEEPALIVES = "keepalives_idle=1&keepalives_interval=1&keepalives_count=2&tcp_user_timeout=3000"


POOL_MODES = ("transaction", "session")
POOL_SIZES = (1, 2, 3, 4)
SERVER_VERSIONS = ("13", "15", "17", "18")  # Patroni's nodes are the host's 15
PGBOUNCER_VERSIONS = ("1.18", "1.24")
# Settings a DBA may put on the role or the database (issue 27), with values that leave the round's own
# files room (the files take milliseconds) but would end pginit's own work if it were not immune to them:
# name -> (value, the first version that has it).
CAMPAIGN_SETTINGS = {
    "statement_timeout": ("'2s'", 13),
    "lock_timeout": ("'3s'", 13),
    "idle_in_transaction_session_timeout": ("'300ms'", 13),
    "idle_session_timeout": ("'500ms'", 14),
    "transaction_timeout": ("'3s'", 17),
    "default_transaction_isolation": ("'serializable'", 13),
    "client_min_messages": ("'error'", 13),
}


@dataclasses.dataclass(frozen=True)
class RoundPlan:
    number: int
    topology: str
    replicas: int
    files: tuple  # (version, "tx" | "notx"), version 1 is the log tables
    migrate_command: bool
    faults: tuple  # (seconds after the start, kind, a random number for the fault's own choices)
    app_seconds: float  # the app each replica then supervises: faults may land while it runs
    pool_mode: str = "transaction"  # PgBouncer's, for the pgbouncer topology
    pool_size: int = 4
    seed: int = 0
    server_version: str = "15"
    pgbouncer_version: str = "1.18"
    settings: tuple = ()  # (setting, value, "role" | "database"): put there before the replicas start
    format: str = "pginit"  # the tool the round's migrations were written for (issue 26)


# Rounds that once went wrong, replayed by every scripts/test as they were planned then (what was drawn
# later, such as the pool, pinned to what the round had): (seed, round, pinned fields).
REGRESSION_ROUNDS = (
    # PgBouncer, transaction pooling, dropped packets: a file's transaction stranded on the server while
    # PgBouncer believed its client alive blocked every later deploy.
    (61207, 39, {"pool_mode": "transaction", "pool_size": 4, "server_version": "15", "pgbouncer_version": "1.18",
                 "settings": (), "format": "pginit"}),
    # Patroni: the round's database, created just before a failover, was lost with the old leader and
    # the harness crashed.
    (61206, 2, {"settings": (), "format": "pginit"}),
    # PgBouncer, session pooling, the server SIGKILLed while a replica asked the pool mode: its lost BEGIN
    # was taken for statement pooling's refusal (78).
    (73001, 3, {"pool_mode": "session", "pool_size": 2, "server_version": "15", "pgbouncer_version": "1.18",
                "settings": (("client_min_messages", "'error'", "database"), ("lock_timeout", "'3s'", "database")),
                "format": "dbmate"}),
)


def plan_round(seed, number, topologies, pinned=None):
    """The round `number` of the campaign `seed`: pure, so a failing round replays from both numbers.
    What was added to the plan later (the pool's mode and size) is drawn from a stream of its own, so that
    the rounds of earlier seeds stay as they were; `pinned` fixes such fields (a regression round)."""
    rng = random.Random(f"{seed}-{number}")
    topology = rng.choice(topologies)
    files = [(1, "tx")] + [(v, "notx" if rng.random() < 0.25 else "tx") for v in range(2, rng.randint(6, 30) + 1)]
    faults, kinds = [], list(FAULTS[topology])
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(kinds)
        if kind in CLUSTER_FAULTS:  # one a round: Patroni needs its ttl to settle one before another
            kinds = [k for k in kinds if k not in CLUSTER_FAULTS]
        faults.append((round(rng.uniform(0.05, 2.5), 2), kind, rng.random()))
    faults = tuple(sorted(faults))
    plan = RoundPlan(number, topology, rng.randint(2, 6), tuple(files), rng.random() < 0.5, faults,
                     round(rng.uniform(0.2, 2.0), 1), seed=seed)
    variant = random.Random(f"{seed}-{number}-variant")
    plan = dataclasses.replace(plan, pool_mode=variant.choice(POOL_MODES), pool_size=variant.choice(POOL_SIZES))
    version = variant.choice(SERVER_VERSIONS) if topology != "patroni" else "15"
    settings = []
    if variant.random() < 0.5:
        available = sorted(name for name, (_, since) in CAMPAIGN_SETTINGS.items() if int(version) >= since)
        for name in variant.sample(available, variant.randint(1, 3)):
            settings.append((name, CAMPAIGN_SETTINGS[name][0], variant.choice(("role", "database"))))
    plan = dataclasses.replace(plan, server_version=version, pgbouncer_version=variant.choice(PGBOUNCER_VERSIONS),
                               settings=tuple(settings) if topology != "patroni" else ())
    plan = dataclasses.replace(plan, format=variant.choice(FORMATS))
    return dataclasses.replace(plan, **(pinned or {}))


LOGS = "CREATE TABLE applied_log (version int);\nCREATE TABLE notx_log (version int, others int);\n"


def transactional_sql(version):
    return f"CREATE TABLE t{version} (id int);\nINSERT INTO applied_log VALUES ({version});\nSELECT pg_sleep(0.03);\n"


def no_transaction_sql(version, with_index=True):
    """Statements that may run again after an interruption (written to be idempotent), but never beside
    another replica's: `others` counts sessions running this kind of statement beside this one."""
    sql = textwrap.dedent(f"""\
        CREATE TABLE IF NOT EXISTS t{version} (id int);
        SELECT pg_sleep(0.05) AS pginit_notx_marker;
        INSERT INTO notx_log SELECT {version}, count(*) FROM pg_stat_activity
          WHERE query LIKE '%pginit_notx_marker%' AND pid <> pg_backend_pid() AND state = 'active';
        """)
    return sql + (f"CREATE INDEX CONCURRENTLY IF NOT EXISTS t{version}_id ON t{version} (id);\n" if with_index else "")


def migration_files(plan):
    """{path: content} of the round's migrations in its format. golang-migrate and Prisma send a file as one
    query, where CREATE INDEX CONCURRENTLY cannot stand beside other statements, and their own protocol for
    a file that cannot run in a transaction leaves a state for a person to repair after an interrupted run:
    their rounds' no-transaction files are the same statements without the index, in a transaction."""
    files = {}
    for version, kind in plan.files:
        sql = LOGS if version == 1 else transactional_sql(version) if kind == "tx" else None
        notx = sql is None
        if plan.format == "pginit":
            files[f"{version:04d}_{'n' if notx else 't'}{version}.sql"] = (
                "-- pginit:no-transaction\n" + no_transaction_sql(version) if notx else sql)
        elif plan.format == "golang-migrate":
            files[f"{version:04d}_t{version}.up.sql"] = no_transaction_sql(version, False) if notx else sql
            files[f"{version:04d}_t{version}.down.sql"] = f"DROP TABLE IF EXISTS t{version};\n"
        elif plan.format == "goose":
            files[f"{version:05d}_t{version}.sql"] = ("-- +goose NO TRANSACTION\n" if notx else "") + "-- +goose Up\n" + (
                no_transaction_sql(version) if notx else sql) + f"-- +goose Down\nDROP TABLE t{version};\n"
        elif plan.format == "dbmate":
            files[f"{version:04d}_t{version}.sql"] = (
                f"-- migrate:up{' transaction:false' if notx else ''}\n" +
                (no_transaction_sql(version, False) if notx else sql) + f"-- migrate:down\nDROP TABLE t{version};\n")
        elif plan.format == "flyway":
            files[f"V{version}__t{version}.sql"] = no_transaction_sql(version) if notx else sql
        else:
            files[f"{version:04d}_t{version}/migration.sql"] = no_transaction_sql(version, False) if notx else sql
    return files


# Each format's history table, as the versions its tool counts applied (golang-migrate: every file up to
# the one version it keeps).
APPLIED_VERSIONS = {
    "pginit": "SELECT version FROM pginit_migrations",
    "golang-migrate": "SELECT v FROM schema_migrations, generate_series(1, version::int) AS v WHERE NOT dirty",
    "goose": "SELECT version_id FROM goose_db_version WHERE version_id > 0 AND is_applied",
    "dbmate": "SELECT version::int FROM schema_migrations",
    "flyway": "SELECT version::int FROM flyway_schema_history WHERE success AND version IS NOT NULL",
    "prisma": "SELECT split_part(migration_name, '_', 1)::int FROM _prisma_migrations WHERE finished_at IS NOT NULL",
}
FORMATS = tuple(APPLIED_VERSIONS)


RECORDER = textwrap.dedent("""\
    import os, sys, time
    with open(sys.argv[1], "a") as f:
        f.write(f"start {time.time()} {os.getpid()}\\n")
    time.sleep(0.3)
    with open(sys.argv[1], "a") as f:
        f.write(f"end {time.time()} {os.getpid()}\\n")
""")


# --- invariants: plain functions of what a round observed; each returns a list of violations ------

def transactional_files_at_most_once(applied_counts, plan):
    return [f"file {v} applied {applied_counts[v]} times" for v, kind in plan.files[1:]
            if kind == "tx" and applied_counts.get(v, 0) > 1]


def no_transaction_files_one_replica_at_a_time(notx_rows):
    return [f"no-transaction file {v} ran beside {others} other session(s)" for v, others in notx_rows if others]


def migrate_commands_one_at_a_time(recorded):
    """`recorded`: the recorder's lines. Completed runs must not overlap."""
    starts, spans = {}, []
    for kind, at, pid in recorded:
        if kind == "start":
            starts[pid] = at
        elif pid in starts:
            spans.append((starts.pop(pid), at))
    spans.sort()
    return [f"migrate commands overlapped: {a} and {b}" for a, b in zip(spans, spans[1:]) if b[0] < a[1]]


def every_failure_says_why(exit_codes, stderrs):
    """A replica that exited 65, 69, 77 or 78 printed the one line with its cause, ending "(exit N)"."""
    return [f"a replica exited {code} without a line saying why: {err[-300:]!r}" for code, err in zip(exit_codes, stderrs)
            if code in (65, 69, 77, 78) and f"(exit {code})" not in err]


def exit_codes_documented(codes):
    return [f"undocumented exit code {code}" for code in codes if code not in DOCUMENTED_EXITS]


def history_matches_schema(history_versions, tables, plan, transactional_only):
    """Transactional files: history row exactly where the file's table exists, at any time. After a
    clean run, every file."""
    problems = []
    for version, kind in plan.files[1:]:
        if transactional_only and kind != "tx":
            continue
        if (version in history_versions) != (f"t{version}" in tables):
            problems.append(f"file {version}: history {'has' if version in history_versions else 'lacks'} it, "
                            f"table t{version} {'exists' if f't{version}' in tables else 'missing'}")
    return problems


def exactly_once_after_a_clean_run(applied_counts, history_versions, notx_versions, plan):
    problems = [f"file {v} applied {applied_counts.get(v, 0)} times after the clean run"
                for v, kind in plan.files[1:] if kind == "tx" and applied_counts.get(v, 0) != 1]
    problems += [f"no-transaction file {v} never ran" for v, kind in plan.files[1:]
                 if kind == "notx" and v not in notx_versions]
    expected = {v for v, _ in plan.files}
    if set(history_versions) != expected:
        problems.append(f"history {sorted(history_versions)} is not every file {sorted(expected)}")
    return problems


# --- topologies -------------------------------------------------------------------------------------

class Direct:
    """A server in a network namespace of its own, the replicas beside it; the test reaches it by its
    Unix socket, outside any fault."""

    name = "direct"

    def __init__(self, plan):
        self.namespace = NetNamespace()
        self.prefix = self.namespace.prefix
        self.server = PgServer(netns=self.namespace.name, version=plan.server_version)
        self.server.start()

    def port(self):
        return self.server.port

    def dsn(self, db):
        return f"{self.server.dsn(db=db)}?{KEEPALIVES}"

    def new_database(self, plan):
        return self.server.new_database()

    def psql(self, sql, db):
        return self.server.psql(sql, db=db)

    def inject(self, kind, choice):
        if kind == "server SIGKILL":
            with open(os.path.join(self.server.data, "postmaster.pid")) as f:
                os.kill(int(f.readline()), signal.SIGKILL)
            time.sleep(0.3 + choice)
            self.restart_server()
        elif kind == "server restart":
            self.server.restart_immediately()
        elif kind == "pg_terminate_backend":
            self.server.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                             "WHERE usename = 'app' AND pid <> pg_backend_pid()")
        elif kind == "dropped packets":
            self.namespace.drop(self.port(), both_ways=True)
            time.sleep(1 + 2 * choice)
            self.namespace.accept()

    def restart_server(self):
        # Backends of a killed postmaster notice within moments; until then a new one may refuse.
        for _ in range(50):
            try:
                self.server.running = False
                self.server.start(wait=True)
                return
            except subprocess.CalledProcessError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start again after SIGKILL")

    def heal(self):
        if subprocess.run(self.prefix + ["/usr/lib/postgresql/15/bin/pg_isready", "-q", "-h", "127.0.0.1", "-p",
                                         str(self.server.port)]).returncode != 0:
            self.restart_server()

    def destroy(self):
        self.server.destroy()
        self.namespace.destroy()


class ThroughPgBouncer(Direct):
    """Direct's server and namespace, the replicas through a PgBouncer beside it: each round's database a
    pool of its own, in the round's pool mode and size."""

    name = "pgbouncer"

    def __init__(self, plan):
        super().__init__(plan)
        self.pgbouncer_version = plan.pgbouncer_version
        self.databases = {}
        self.bouncer = None

    def new_database(self, plan):
        db = self.server.new_database()
        self.databases[db] = (db, plan.pool_mode, plan.pool_size)
        if self.bouncer:
            self.bouncer.destroy()
        # Settings as a production pool keeps them, short enough for a round. The port is free on the host;
        # in the namespace a client's ephemeral port may hold it: then another port.
        for _ in range(5):
            self.bouncer = PgBouncer(self.server, self.databases, pool_size=4, settings={"server_login_retry": 1},
                                     prefix=self.prefix, version=self.pgbouncer_version)
            try:
                self.bouncer.start()
                return db
            except RuntimeError as error:
                self.bouncer.destroy()
                if "Address already in use" not in str(error):
                    raise
        raise RuntimeError("no free port for PgBouncer in the namespace")

    def port(self):
        return self.bouncer.port

    def dsn(self, db):
        return f"{self.bouncer.dsn(db)}?{KEEPALIVES}"

    def inject(self, kind, choice):
        if kind == "PgBouncer restart":
            self.bouncer.stop(signal.SIGKILL if choice < 0.5 else signal.SIGTERM)
            time.sleep(0.2 + choice)
            self.bouncer.start()
        elif kind == "dropped packets" and choice < 0.5:  # the pooler's port, else the server's
            self.namespace.drop(self.bouncer.port, both_ways=True)
            time.sleep(1 + 2 * choice)
            self.namespace.accept()
        else:
            super().inject(kind, choice)

    def heal(self):
        super().heal()
        if not self.bouncer.process or self.bouncer.process.poll() is not None:
            self.bouncer.start()

    def destroy(self):
        if self.bouncer:
            self.bouncer.destroy()
        super().destroy()


class Patroni:
    """The 3-node cluster, reached through HAProxy."""

    name = "patroni"
    prefix = []

    def __init__(self, plan):
        self.cluster = PatroniCluster()
        self.cluster.start()
        self.killed = None
        self.count = 0

    def dsn(self, db):
        return self.cluster.haproxy_dsn(db)

    def new_database(self, plan):
        """Created on the leader and replayed on every replica before the faults start: a failover then
        cannot lose it with the old leader (asynchronous replication)."""
        self.count += 1
        return self.cluster.new_database(f"campaign_{os.getpid()}_{self.count}", replicated=True)

    def psql(self, sql, db):
        result = None
        for _ in range(100):  # right after a failover the new leader may still be on its way
            result = self.cluster.psql(sql, db=db) if self.cluster.leader() else None
            if result is not None:
                return result
            time.sleep(0.2)
        raise RuntimeError(f"no leader answered {sql} (or it failed there for 20 s)")

    def inject(self, kind, choice):
        if kind == "Patroni switchover" and self.cluster.leader():
            with contextlib.suppress(AssertionError, RuntimeError):  # a refused one is no fault
                self.cluster.switchover()
        elif kind == "Patroni failover" and self.killed is None and self.cluster.leader():
            self.killed = self.cluster.leader()
            self.cluster.kill_node(self.killed)
        elif kind == "pg_terminate_backend":
            with contextlib.suppress(Exception):
                self.cluster.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                  "WHERE usename = 'app' AND pid <> pg_backend_pid()", db="postgres")

    def heal(self):
        if self.killed is not None:
            self.cluster._until(lambda: self.cluster.leader() not in (None, self.killed), 60, "new leader")
            self.cluster.start_node(self.killed)
            self.killed = None
        try:
            self.cluster.wait_healthy(60)
        except RuntimeError:
            # A node that cannot rejoin (its timeline went its own way) is cloned afresh, as an
            # operator would: the campaign is about pginit, not about nursing the cluster.
            self.cluster.reclone_lagging_nodes()
            self.cluster.wait_healthy(90)

    def destroy(self):
        self.cluster.destroy()


TOPOLOGIES = {"direct": Direct, "pgbouncer": ThroughPgBouncer, "patroni": Patroni}


# --- running ------------------------------------------------------------------------------------------

@dataclasses.dataclass
class RoundReport:
    plan: RoundPlan
    exit_codes: list
    violations: list
    seconds: float
    harness: list = dataclasses.field(default_factory=list)  # what the checker did not expect


def describe(plan):
    """How a round is named in the log: what replays it, and what it ran."""
    topology = f"{plan.topology}, PostgreSQL {plan.server_version}"
    if plan.topology == "pgbouncer":
        topology += f", PgBouncer {plan.pgbouncer_version} {plan.pool_mode} pooling, pool of {plan.pool_size}"
    settings = "".join(f", {name} = {value} on the {place}" for name, value, place in plan.settings)
    return (f"seed {plan.seed} round {plan.number} [{topology}{settings}, {plan.replicas} replicas, {len(plan.files)} "
            f"{plan.format} files, faults {[k for _, k, _ in plan.faults]}]")


class Campaign:
    def __init__(self, seed, topologies=("direct", "pgbouncer", "patroni"), log=print):
        self.seed, self.topologies, self.log = seed, tuple(topologies), log
        self.running = {}  # topology name -> its servers, started when a round first needs them
        self.workdir = tempfile.mkdtemp(prefix="pginit-campaign-")
        self.faults = collections.Counter()
        self.reports = []

    @staticmethod
    def topology_key(plan):
        """Rounds share a topology's servers when they run the same versions."""
        if plan.topology == "patroni":
            return (plan.topology,)
        return (plan.topology, plan.server_version) + ((plan.pgbouncer_version,) if plan.topology == "pgbouncer" else ())

    def topology(self, plan):
        key = self.topology_key(plan)
        if key not in self.running:
            self.running[key] = TOPOLOGIES[plan.topology](plan)
        return self.running[key]

    def run(self, rounds, only=None):
        """Rounds 1..`rounds` of the campaign's seed, or just round `only` (a replay)."""
        self.log(f"campaign seed {self.seed}: replay any round with the same seed and its number")
        numbers = [only] if only else range(1, rounds + 1)
        return self.run_plans([plan_round(self.seed, number, self.topologies) for number in numbers])

    def run_plans(self, plans):
        for plan in plans:
            report = self.run_round(plan)
            self.reports.append(report)
            self.faults.update(kind for _, kind, _ in report.plan.faults)
            state = "ok" if not report.violations else "VIOLATED: " + "; ".join(report.violations)
            if report.harness:
                state += "; HARNESS: " + "; ".join(report.harness)
            self.log(f"{describe(plan)} exits {sorted(report.exit_codes)} in {report.seconds:.1f}s: {state}")
        return self.reports

    def run_round(self, plan):
        """One round and its verdict. Whatever the harness itself meets (a server that will not come back,
        a query that finds no leader) is the round's harness finding, named with its seed and number; the
        topology is then set up afresh for the next round."""
        started, replicas = time.monotonic(), []
        try:
            exit_codes, violations = self.faulted_round(plan, replicas)
            return RoundReport(plan, exit_codes, violations, time.monotonic() - started)
        except Exception as error:  # noqa: BLE001: any surprise is a finding, never the campaign's end
            for proc in replicas:
                with contextlib.suppress(Exception):
                    proc.kill()
                    proc.communicate(timeout=10)
            broken = self.running.pop(self.topology_key(plan), None)
            if broken is not None:
                with contextlib.suppress(Exception):
                    broken.destroy()
            finding = f"{type(error).__name__}: {error}".splitlines()[0][:300]
            return RoundReport(plan, [proc.returncode for proc in replicas], [], time.monotonic() - started,
                               [finding])

    def faulted_round(self, plan, replicas):
        """The round's faults, its checks, the clean run and its checks: (exit codes, violations). Started
        replicas are added to `replicas` at once, so that a surprise still ends them."""
        started = time.monotonic()
        where = self.topology(plan)
        db = where.new_database(plan)
        for setting, value, place in plan.settings:
            target = f"ROLE app IN DATABASE {db}" if place == "role" else f"DATABASE {db}"
            where.psql(f"ALTER {target} SET {setting} = {value}", db)
        directory = os.path.join(self.workdir, f"round{plan.seed}-{plan.number}")
        os.makedirs(os.path.join(directory, "m"))
        os.makedirs(os.path.join(directory, "app", "migrations"))
        for name, sql in migration_files(plan).items():
            os.makedirs(os.path.dirname(os.path.join(directory, "m", name)), exist_ok=True)
            with open(os.path.join(directory, "m", name), "w") as f:
                f.write(sql)
        with open(os.path.join(directory, "app", "migrations", "0001_initial.py"), "w") as f:
            f.write(f"# round {plan.number}\n")
        recorder, recorded = os.path.join(directory, "recorder.py"), os.path.join(directory, "recorded")
        with open(recorder, "w") as f:
            f.write(RECORDER)
        args = ["--dsn", where.dsn(db), "--migrations", os.path.join(directory, "m"), "--timeout", "60s",
                "--connect-timeout", "2s"]
        if plan.migrate_command:
            args += ["--migrate-cmd", f"/usr/bin/python3 {recorder} {recorded}", "--migrate-fingerprint",
                     "app/migrations/*.py"]
        violations = []
        app = ["--", "sleep", str(plan.app_seconds)]
        replicas += [self.start_replica(where, args + app, directory) for _ in range(plan.replicas)]
        for at, kind, choice in plan.faults:
            time.sleep(max(0.0, at - (time.monotonic() - started)))
            running = [r for r in replicas if r.poll() is None]
            if kind in ("pginit SIGKILL", "pginit SIGTERM"):
                if running:
                    victim = running[int(choice * len(running))]
                    self.until_signals_are_handled(victim)
                    victim.send_signal(signal.SIGKILL if kind == "pginit SIGKILL" else signal.SIGTERM)
            else:
                where.inject(kind, choice)
        exit_codes = [self.finish_replica(r, violations) for r in replicas]
        self.log_abnormal_ends(replicas, exit_codes)
        where.heal()
        violations += exit_codes_documented(exit_codes)
        violations += every_failure_says_why(exit_codes, [r.stderr_text for r in replicas])
        violations += self.check(where, db, plan, recorded, directory, clean=False)
        clean = self.start_replica(where, args, directory)
        replicas.append(clean)
        clean_code = self.finish_replica(clean, violations)
        if clean_code != 0:
            violations.append(f"the clean run after the faults exited {clean_code}: {clean.stderr_text[-400:]}")
        violations += self.check(where, db, plan, recorded, directory, clean=True)
        shutil.rmtree(directory, ignore_errors=True)
        return exit_codes, violations

    def start_replica(self, where, args, directory):
        # FLYWAY_MIXED: Flyway rounds' no-transaction files hold a CREATE TABLE beside their concurrent index.
        return subprocess.Popen(list(where.prefix) + [PGINIT] + args, env=clean_env({"FLYWAY_MIXED": "true"}), cwd=directory,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    @staticmethod
    def until_signals_are_handled(proc):
        """A signal to `ip netns exec`, to Python's child before its exec, or to pginit before the first
        line of its main() blocks them (the loader's work) ends that process by the default action, as
        it would any program: wait until pginit has SIGTERM blocked."""
        for _ in range(400):
            with contextlib.suppress(OSError, StopIteration):
                with open(f"/proc/{proc.pid}/status") as status:
                    blocked = next(line for line in status if line.startswith("SigBlk:")).split()[1]
                if os.path.samefile(f"/proc/{proc.pid}/exe", PGINIT) and int(blocked, 16) & (1 << (signal.SIGTERM - 1)):
                    return
            if proc.poll() is not None:
                return
            time.sleep(0.005)

    def log_abnormal_ends(self, replicas, exit_codes):
        for proc, code in zip(replicas, exit_codes):
            if code not in DOCUMENTED_EXITS:
                self.log(f"a replica exited {code}; its last lines:\n{proc.stderr_text[-3000:]}")

    def finish_replica(self, proc, violations):
        try:
            out, err = proc.communicate(timeout=REPLICA_LIMIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            violations.append(f"a replica outlived its limit of {REPLICA_LIMIT}s: {err[-500:]}")
        proc.stderr_text = err
        try:
            assert_no_secret(out, err)
        except AssertionError as leak:
            violations.append(str(leak))
        return proc.returncode

    def check(self, where, db, plan, recorded, directory, clean):
        applied = collections.Counter(int(v) for v in rows_if_present(where, db, "SELECT version FROM applied_log")
                                      .split())
        notx_rows = [tuple(map(int, row.split("|"))) for row in
                     rows_if_present(where, db, "SELECT version, others FROM notx_log").splitlines()]
        history = [int(v) for v in rows_if_present(where, db, APPLIED_VERSIONS[plan.format]).split()]
        tables = set(where.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", db).split())
        lines = []
        with contextlib.suppress(FileNotFoundError), open(recorded) as f:
            lines = [(kind, float(at), pid) for kind, at, pid in (line.split() for line in f)]
        problems = transactional_files_at_most_once(applied, plan)
        problems += no_transaction_files_one_replica_at_a_time(notx_rows)
        problems += migrate_commands_one_at_a_time(lines)
        problems += history_matches_schema(set(history), tables, plan, transactional_only=not clean)
        problems += self.locks_left(where, db)
        problems += self.processes_left(directory)
        if clean:
            problems += exactly_once_after_a_clean_run(applied, history, {v for v, _ in notx_rows}, plan)
            if plan.migrate_command and not any(kind == "end" for kind, _, _ in lines):
                problems.append("the migrate command never completed")
        return [("after the clean run: " if clean else "") + p for p in problems]

    @staticmethod
    def locks_left(where, db):
        # A pooler drops a server connection left in a transaction when it sees its client go, and the
        # backend then ends: a moment, never minutes.
        query = ("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                 f"WHERE l.locktype = 'advisory' AND d.datname = '{db}'")
        deadline = time.monotonic() + 5
        while where.psql(query, db) != "0":
            if time.monotonic() > deadline:
                return ["an advisory lock was left after every replica had exited"]
            time.sleep(0.1)
        return []

    @staticmethod
    def processes_left(directory):
        # The migrate command dies with its pginit (its recorder path names the round's directory).
        time.sleep(0.05)
        found = subprocess.run(["pgrep", "-f", directory], capture_output=True, text=True).stdout.split()
        return [f"process {pid} outlived its pginit" for pid in found]

    def destroy(self):
        for where in self.running.values():
            with contextlib.suppress(Exception):
                where.destroy()
        shutil.rmtree(self.workdir, ignore_errors=True)


def rows_if_present(where, db, sql):
    """`sql`'s rows, or none while the table it reads does not exist: the faults may end every replica
    before the first file creates it (the clean run's checks then find what is missing)."""
    table = re.search(r"\bFROM (\w+)", sql).group(1)
    if where.psql(f"SELECT to_regclass('{table}') IS NOT NULL", db) != "t":
        return ""
    return where.psql(sql, db)


@contextlib.contextmanager
def campaign(seed, **kwargs):
    """A Campaign whose servers, namespaces and clusters are removed at the end even on failure."""
    running = Campaign(seed, **kwargs)
    try:
        yield running
    finally:
        running.destroy()
