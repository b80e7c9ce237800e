"""Figure 13: a deploy as the database sees it. N replicas (30 and 300) start at once against a server of its
own with max_connections = 30 and 20 small migration files, each replica then starting `true`; side by side
with the psql loop a start-up script runs (`until psql -c 'SELECT 1'; do sleep 1; done; psql -f everything`).
pginit runs as is and with --spare-connections. Reported: time to the last app up, the migrations' own time
(one replica alone), the peak number of server sessions held by the replicas and of waiters among them
(sampled every 10 ms over the superuser's reserved slot), the server's "too many clients" lines and its
connection attempts (log_connections), how many of a running application's new connections the server
refused meanwhile, and each file's applications. The plot shows when each replica's app started."""
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field

import common
from common import PSQL, Section, superuser_env, table
from pgserver import APP_PASSWORD, PgServer

MAX_CONNECTIONS = 30
FILES = 20
PLOT = os.path.join(common.HERE, "herd.png")


def write_files(directory):
    os.makedirs(directory)
    everything = ["CREATE TABLE applied_log (version int);"]
    with open(os.path.join(directory, "0000_log.sql"), "w") as f:
        f.write("CREATE TABLE applied_log (version int);\n")
    for number in range(1, FILES + 1):
        sql = (f"CREATE TABLE h{number} (id int PRIMARY KEY, note text);\n"
               f"INSERT INTO h{number} SELECT g, md5(g::text) FROM generate_series(1, 200) g;\n"
               f"INSERT INTO applied_log VALUES ({number});\n")
        with open(os.path.join(directory, f"{number:04d}_h{number}.sql"), "w") as f:
            f.write(sql)
        everything.append(sql)
    everything_path = os.path.join(directory, "..", "everything.sql")
    with open(everything_path, "w") as f:
        f.write("\n".join(everything))
    return everything_path


PROBE_NAME = "running-app"


class PeakSampler(threading.Thread):
    """Every 10 ms, over the superuser's reserved slot: the replicas' sessions (the app role's, less the
    probe's) and, among them, the waiters (idle after LISTEN or after a failed try of the lock); the most
    of each seen at once."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server, self.peak, self.peak_waiters, self.stopping = server, 0, 0, False
        self.psql = subprocess.Popen([PSQL, "-X", "-At", "-F", " ", "-h", "127.0.0.1", "-p", str(server.port), "-U",
                                      "postgres", "-d", "postgres"], env=superuser_env(), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)

    def run(self):
        while not self.stopping:
            self.psql.stdin.write(
                "SELECT count(*), count(*) FILTER (WHERE state = 'idle' AND (query LIKE 'LISTEN%' OR query LIKE "
                f"'SELECT pg_try_advisory_lock%')) FROM pg_stat_activity WHERE usename = 'app' AND "
                f"application_name <> '{PROBE_NAME}';\n")
            sessions, waiters = map(int, self.psql.stdout.readline().split())
            self.peak, self.peak_waiters = max(self.peak, sessions), max(self.peak_waiters, waiters)
            time.sleep(0.01)

    def stop(self):
        self.stopping = True
        self.join()
        self.psql.communicate("\\q\n")


class AppProbe(threading.Thread):
    """The application that runs on during a deploy: every 50 ms it opens a new connection (as the app
    role, with a pool to refill, say) and counts the ones the server refused."""

    def __init__(self, server, db):
        super().__init__(daemon=True)
        self.argv = [PSQL, "-X", "-q", "-h", "127.0.0.1", "-p", str(server.port), "-U", "app", "-d", db, "-c",
                     "SELECT 1"]
        self.env = dict(os.environ, PGPASSWORD=APP_PASSWORD, PGAPPNAME=PROBE_NAME)
        self.tries, self.refused, self.stopping = 0, 0, False

    def run(self):
        while not self.stopping:
            tried = subprocess.run(self.argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True)
            self.tries += 1
            self.refused += "too many clients" in tried.stderr
            time.sleep(0.05)

    def stop(self):
        self.stopping = True
        self.join()


def log_counts(server, since_offset):
    with open(server.log, errors="replace") as f:
        f.seek(since_offset)
        text = f.read()
    return text.count("too many clients"), text.count("connection received")


def deploy(server, db, launcher, argv, replicas, env):
    """Starts `replicas` copies of argv at once (bench/launch_herd.c) beside the running application's probe;
    a Deploy."""
    offset = os.path.getsize(server.log)
    sampler, probe = PeakSampler(server), AppProbe(server, db)
    sampler.start()
    probe.start()
    launched = subprocess.run([launcher, str(replicas)] + argv, env=env, stdout=subprocess.PIPE, text=True,
                              check=True)
    probe.stop()
    sampler.stop()
    time.sleep(0.2)
    deployed = Deploy(peak=sampler.peak, peak_waiters=sampler.peak_waiters, probe_tries=probe.tries,
                      probe_refused=probe.refused)
    for line in launched.stdout.splitlines():
        first, second = line.split()
        if first == "released":
            deployed.forks = float(second)
        else:
            deployed.ends.append(float(first))
            deployed.codes.append(int(second))
    deployed.ends.sort()
    too_many, attempts = log_counts(server, offset)
    # The probe's tries and the sampler's login are not the replicas': each is a connection received, a
    # refusal a line.
    deployed.too_many, deployed.attempts = too_many - probe.refused, attempts - probe.tries - 1
    return deployed


@dataclass
class Deploy:
    peak: int
    peak_waiters: int
    probe_tries: int
    probe_refused: int
    forks: float = 0.0
    ends: list = field(default_factory=list)
    codes: list = field(default_factory=list)
    too_many: int = 0
    attempts: int = 0
    applied: str = ""


def applications(server, db):
    return server.psql("SELECT count(*) || ' in ' || count(DISTINCT version) FROM applied_log", db=db)


SPARE = 5  # the margin of the --spare-connections rows: slots the waiters leave to the running application


def run(directory):
    pginit = common.pginit_builds()[0][1]
    before = common.earlier_build("PGINIT_BEFORE_19")
    builds = [("pginit", pginit)] + ([("pginit before issue 19", before)] if before else []) + [
        ("before issue 28: pginit, libpq's own SCRAM", path) for _, path in common.unpatched_build()]
    herds = (5, 20) if common.QUICK else (30, 300)
    migrations = os.path.join(directory, "herd", "m")
    everything = write_files(migrations)
    server = PgServer(extra_conf=f"max_connections = {MAX_CONNECTIONS}\nlog_connections = on\n")
    server.start()
    env = dict(superuser_env(), PGPASSWORD=APP_PASSWORD)
    launcher = common.compile_helper("launch_herd", directory)
    slots = MAX_CONNECTIONS - int(server.psql("SHOW superuser_reserved_connections"))
    rows, goals, timelines = [], [], {}

    def dsn(db):
        return f"postgres://app:{APP_PASSWORD}@127.0.0.1:{server.port}/{db}"

    def row(name, argv_for, replicas, alone="-"):
        db = server.new_database()
        deployed = deploy(server, db, launcher, argv_for(db), replicas, env)
        timelines[name] = deployed.ends
        deployed.applied = applications(server, db)
        rows.append([name, f"{deployed.ends[-1]:.2f}", f"{deployed.forks:.2f}", alone, deployed.peak,
                     deployed.peak_waiters, deployed.too_many, f"{deployed.too_many / replicas:.2f}", deployed.attempts,
                     f"{deployed.probe_refused} of {deployed.probe_tries}", deployed.applied,
                     ", ".join(f"{c}: {deployed.codes.count(c)}" for c in sorted(set(deployed.codes)))])
        return deployed

    def pginit_argv(binary, extra=()):
        return lambda db: [binary, "--quiet", "--dsn", dsn(db), "--migrations", migrations, "--timeout", "300s",
                           *extra, "--", "true"]

    try:
        started = time.monotonic()
        subprocess.run([pginit, "--quiet", "--dsn", dsn(server.new_database()), "--migrations", migrations],
                       check=True)
        alone = time.monotonic() - started
        for replicas in herds:
            for label, binary in builds:
                deployed = row(f"{replicas} × {label}", pginit_argv(binary), replicas, f"{alone:.2f}")
                if binary == pginit and replicas == herds[-1]:
                    last = deployed.ends[-1]
                    goals.append((f"{replicas} replicas: last app up ≤ migration time + 2 s", last <= alone + 2,
                                  f"{last:.2f} s vs {alone:.2f} s + 2 s"))
                    goals.append((f"{replicas} replicas: ≤ 1 \"too many clients\" line per replica",
                                  deployed.too_many <= replicas, f"{deployed.too_many / replicas:.2f} per replica"))
                    goals.append((f"{replicas} replicas: each file once", deployed.applied == f"{FILES} in {FILES}",
                                  deployed.applied))
            spared = row(f"{replicas} × pginit --spare-connections {SPARE}", pginit_argv(pginit, (
                "--spare-connections", str(SPARE))), replicas, f"{alone:.2f}")
            if replicas == herds[-1]:
                goals.append((f"{replicas} replicas, --spare-connections {SPARE}: waiters never hold more than "
                              f"{slots} - {SPARE} slots", spared.peak_waiters <= slots - SPARE,
                              f"at most {spared.peak_waiters} waiters"))
                goals.append((f"{replicas} replicas, --spare-connections {SPARE}: each file once",
                              spared.applied == f"{FILES} in {FILES}", spared.applied))
            row(f"{replicas} × the psql loop", lambda db: ["sh", "-c", (
                f"until {PSQL} -X -q -h 127.0.0.1 -p {server.port} -U app -d {db} -c 'SELECT 1' >/dev/null 2>&1; "
                f"do sleep 1; done; {PSQL} -X -q -h 127.0.0.1 -p {server.port} -U app -d {db} -f {everything} "
                ">/dev/null 2>&1; true")], replicas)
    finally:
        server.destroy()
    section = Section("herd", f"13. A deploy as the database sees it: replicas started at once, max_connections = "
                              f"{MAX_CONNECTIONS} ({slots} for the app role), {FILES} files, each then starting `true`",
                      table(["replicas", "last app up, s", "forks before the release, s", "migrations alone, s", "peak sessions",
                             "peak waiters", "\"too many clients\" lines", "per replica", "connection attempts",
                             "running app refused", "applied (rows in distinct files)", "exit codes"], rows))
    section.goals.extend(goals)
    section.notes.append(
        "Started at once: bench/launch_herd.c forks every replica first, each waiting at a barrier, then releases "
        "them together; times count from the release. Last app up: when the last replica exited, its `true` done. Peak sessions and waiters: the most sessions of the app "
        "role seen at once (sampled every 10 ms), and among them those idle waiting for the lock (after LISTEN or a "
        "failed try). Running app refused: a running application's new connections (one every 50 ms during the "
        "deploy) that the server refused. \"Too many clients\" lines and connection attempts (log_connections) "
        "are the replicas' alone: the probe's and the sampler's are taken off.")
    if not common.QUICK:
        plot(timelines)
        section.notes.append("When each replica's app started: [herd.png](herd.png).")
    return section


def plot(timelines):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for name, ends in timelines.items():
        axis.plot(ends, [i + 1 for i in range(len(ends))], label=name, drawstyle="steps-post")
    axis.set_xlabel("seconds after the start")
    axis.set_ylabel("replicas whose app has started")
    axis.set_title(f"Replicas started at once, max_connections = {MAX_CONNECTIONS}")
    axis.legend()
    figure.tight_layout()
    figure.savefig(PLOT, dpi=100)
