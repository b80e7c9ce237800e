"""Figure 13: a deploy as the database sees it. N replicas (30 and 300) start at once against a server of its
own with max_connections = 30 and 20 small migration files, each replica then starting `true`; side by side
with the psql loop a start-up script runs (`until psql -c 'SELECT 1'; do sleep 1; done; psql -f everything`).
Reported: time to the last app up, the migrations' own time (one replica alone), the peak number of server
connections held by the replicas (sampled every 10 ms over the superuser's reserved slot), the server's
"too many clients" lines and its connection attempts (log_connections), and each file's applications.
The plot shows when each replica's app started."""
import os
import subprocess
import tempfile
import threading
import time

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


class PeakSampler(threading.Thread):
    """The most client connections of the app role seen at once, every 10 ms, over the superuser's slot."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server, self.peak, self.stopping = server, 0, False
        self.psql = subprocess.Popen([PSQL, "-X", "-At", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres",
                                      "-d", "postgres"], env=superuser_env(), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)

    def run(self):
        while not self.stopping:
            self.psql.stdin.write("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app';\n")
            self.peak = max(self.peak, int(self.psql.stdout.readline()))
            time.sleep(0.01)

    def stop(self):
        self.stopping = True
        self.join()
        self.psql.communicate("\\q\n")


def log_counts(server, since_offset):
    with open(server.log, errors="replace") as f:
        f.seek(since_offset)
        text = f.read()
    return text.count("too many clients"), text.count("connection received")


def deploy(server, launcher, argv, replicas, env):
    """Starts `replicas` copies of argv at once (bench/launch_herd.c); (seconds until each exited, their exit
    codes, seconds to spawn them all, peak connections, too-many lines, connection attempts)."""
    offset = os.path.getsize(server.log)
    sampler = PeakSampler(server)
    sampler.start()
    launched = subprocess.run([launcher, str(replicas)] + argv, env=env, stdout=subprocess.PIPE, text=True,
                              check=True)
    sampler.stop()
    time.sleep(0.2)
    spawned, ends, codes = 0.0, [], []
    for line in launched.stdout.splitlines():
        first, second = line.split()
        if first == "spawned":
            spawned = float(second)
        else:
            ends.append(float(first))
            codes.append(int(second))
    too_many, attempts = log_counts(server, offset)
    return sorted(ends), codes, spawned, sampler.peak, too_many, attempts


def applications(server, db):
    return server.psql("SELECT count(*) || ' in ' || count(DISTINCT version) FROM applied_log", db=db)


def run(directory):
    pginit = common.pginit_builds()[0][1]
    before = os.environ.get("PGINIT_BEFORE")  # the build before issue 19, measured in the same run
    builds = [("pginit", pginit)] + ([("pginit before", before)] if before and os.path.exists(before) else [])
    herds = (5, 20) if common.QUICK else (30, 300)
    migrations = os.path.join(directory, "herd", "m")
    everything = write_files(migrations)
    server = PgServer(extra_conf=f"max_connections = {MAX_CONNECTIONS}\nlog_connections = on\n")
    server.start()
    env = dict(superuser_env(), PGPASSWORD=APP_PASSWORD)
    launcher = common.compile_helper("launch_herd", directory)
    rows, goals, timelines = [], [], {}

    def dsn(db):
        return f"postgres://app:{APP_PASSWORD}@127.0.0.1:{server.port}/{db}"

    def row(name, argv_for, replicas, alone="-"):
        db = server.new_database()
        ends, codes, spawned, peak, too_many, attempts = deploy(server, launcher, argv_for(db), replicas, env)
        timelines[name] = ends
        applied = applications(server, db)
        rows.append([name, f"{ends[-1]:.2f}", f"{spawned:.2f}", alone, peak, too_many, f"{too_many / replicas:.1f}", attempts, applied,
                     ", ".join(f"{c}: {codes.count(c)}" for c in sorted(set(codes)))])
        return ends[-1], too_many, applied

    try:
        started = time.monotonic()
        subprocess.run([pginit, "--quiet", "--dsn", dsn(server.new_database()), "--migrations", migrations],
                       check=True)
        alone = time.monotonic() - started
        for replicas in herds:
            for label, binary in builds:
                last, too_many, applied = row(
                    f"{replicas} × {label}", lambda db, binary=binary: [
                        binary, "--quiet", "--dsn", dsn(db), "--migrations", migrations, "--timeout", "300s", "--",
                        "true"], replicas, f"{alone:.2f}")
                if binary == pginit and replicas == herds[-1]:
                    goals.append((f"{replicas} replicas: last app up ≤ migration time + 2 s", last <= alone + 2,
                                  f"{last:.2f} s vs {alone:.2f} s + 2 s"))
                    goals.append((f"{replicas} replicas: ≤ 1 \"too many clients\" line per replica",
                                  too_many <= replicas, f"{too_many / replicas:.2f} per replica"))
                    goals.append((f"{replicas} replicas: each file once", applied == f"{FILES} in {FILES}",
                                  applied))
            row(f"{replicas} × the psql loop", lambda db: ["sh", "-c", (
                f"until {PSQL} -X -q -h 127.0.0.1 -p {server.port} -U app -d {db} -c 'SELECT 1' >/dev/null 2>&1; "
                f"do sleep 1; done; {PSQL} -X -q -h 127.0.0.1 -p {server.port} -U app -d {db} -f {everything} "
                ">/dev/null 2>&1; true")], replicas)
    finally:
        server.destroy()
    section = Section("herd", f"13. A deploy as the database sees it: replicas started at once, max_connections = "
                              f"{MAX_CONNECTIONS}, {FILES} files, each then starting `true`",
                      table(["replicas", "last app up, s", "all spawned, s", "migrations alone, s", "peak connections",
                             "\"too many clients\" lines", "per replica", "connection attempts",
                             "applied (rows in distinct files)", "exit codes"], rows))
    section.goals.extend(goals)
    section.notes.append("Peak connections: the most sessions of the app role seen at once (sampled every 10 ms); "
                         "waiters stay connected (--spare-connections 0, the default). Connection attempts: the server's "
                         "log_connections lines, the sampler's own one included.")
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
