"""Figures 2, 3, 4 and 14: one readiness check, start-up with the database up, exec-to-exit of `X true`
without a database, each timed by hyperfine against the peers in the same run; and the CPU one login costs,
by SCRAM and by trust."""
import os
import subprocess
import time

import common
from common import PG_ISREADY, PSQL, Section, Stats, dsn, hyperfine, ratio_goals, superuser_env, table, timing_table


def readiness_check(server):
    commands = {f"{label} --check (connect, authenticate, SELECT 1)": [path, "--quiet", "--check", "--dsn", dsn(server)]
                for label, path in common.pginit_builds() + common.unpatched_build()}
    commands["pg_isready (no authentication, no query)"] = [PG_ISREADY, "-q", "-h", "127.0.0.1", "-p", str(server.port)]
    commands["psql -c 'select 1'"] = [PSQL, "-X", "-q", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres",
                                      "-c", "select 1"]
    stats = hyperfine(commands, runs=common.trials(100, quick=3), env=superuser_env())
    baseline = "pg_isready (no authentication, no query)"
    section = Section("check", "2. One readiness check against a live server", timing_table(stats, baseline))
    ratio_goals(section, stats, baseline, 1.0, "--check ≤ 1.0x pg_isready")
    return section


def startup_with_database(server):
    commands = {"true": ["true"], "tini -s -- true": ["tini", "-s", "--", "true"]}
    for label, path in common.pginit_builds() + common.unpatched_build():
        commands[f"{label} --dsn ... -- true"] = [path, "--quiet", "--dsn", dsn(server), "--", "true"]
    commands["sh -c 'pg_isready && true'"] = ["sh", "-c", f"{PG_ISREADY} -q -h 127.0.0.1 -p {server.port} && true"]
    stats = hyperfine(commands, runs=common.trials(100, quick=3))
    baseline = "sh -c 'pg_isready && true'"
    section = Section("start", "3. Start-up overhead with the database up: wait (connect + SELECT 1), then run `true`",
                      timing_table(stats, baseline))
    ratio_goals(section, stats, baseline, 1.5, "≤ 1.5x pg_isready && true")
    return section


def exec_to_exit():
    commands = {f"{label} --no-wait -- true": [path, "--no-wait", "--", "true"] for label, path in common.pginit_builds()}
    commands["tini -s -- true"] = ["tini", "-s", "--", "true"]
    commands["tini-static -s -- true"] = ["tini-static", "-s", "--", "true"]
    commands["dumb-init true"] = ["dumb-init", "true"]
    stats = hyperfine(commands, runs=common.trials(300, quick=3), warmup=10)
    baseline = "tini -s -- true"
    section = Section("exec", "4. Exec-to-exit of `X true`, no database", timing_table(stats, baseline, unit_digits=2))
    ratio_goals(section, stats, baseline, 1.5, "≤ 1.5x tini (issue 10)")
    ratio_goals(section, {name: stat for name, stat in stats.items() if "static" in name or name == baseline}, baseline,
                1.2, "≤ 1.2x tini (issue 8)")
    return section


TRUSTED_ROLE = "bench_trusted"


def cpu_and_wall(argv, env):
    """One run of argv: (user + system CPU seconds, wall seconds), from wait4's rusage."""
    started = time.monotonic()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv[0]} exited {os.waitstatus_to_exitcode(status)}")
    return usage.ru_utime + usage.ru_stime, wall


def login_cpu(server):
    """14. The CPU one login costs the client: SCRAM-SHA-256 (the server's default 4096 iterations) and trust,
    over the same loopback TCP, per pginit build and per peer; runs interleaved, so that each command meets
    the machine in the same state."""
    if server.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{TRUSTED_ROLE}'") != "1":
        server.psql(f"CREATE ROLE {TRUSTED_ROLE} LOGIN")
        hba = os.path.join(server.data, "pg_hba.conf")
        rules = open(hba).read()
        with open(hba, "w") as f:  # the first matching rule wins: before initdb's scram-sha-256 for everyone
            f.write(f"host postgres {TRUSTED_ROLE} 127.0.0.1/32 trust\n" + rules)
        server.pg_ctl("reload")
    logins = {"SCRAM-SHA-256": (dsn(server), "postgres"), "trust": (
        f"postgres://{TRUSTED_ROLE}@127.0.0.1:{server.port}/postgres", TRUSTED_ROLE)}
    commands = {}
    for label, path in common.pginit_builds() + common.unpatched_build():
        for login, (url, _) in logins.items():
            commands[(label, "--check", login)] = [path, "--quiet", "--check", "--dsn", url]
    for login, (_, user) in logins.items():
        commands[("psql", "-c 'select 1'", login)] = [PSQL, "-X", "-q", "-h", "127.0.0.1", "-p", str(server.port), "-U",
                                                      user, "-d", "postgres", "-c", "select 1"]
    commands[("pg_isready", "(no login)", "-")] = [PG_ISREADY, "-q", "-h", "127.0.0.1", "-p", str(server.port)]
    cpu = {name: [] for name in commands}
    wall = {name: [] for name in commands}
    env = superuser_env()
    for _ in range(common.trials(60, quick=3)):
        for name, argv in commands.items():
            used, took = cpu_and_wall(argv, env)
            cpu[name].append(used)
            wall[name].append(took)
    rows = []
    for (label, what, login) in commands:
        cpu_median = Stats(cpu[(label, what, login)]).median
        trust = cpu.get((label, what, "trust"))
        ratio = f"{cpu_median / Stats(trust).median:.2f}x" if trust and login != "trust" else "-"
        rows.append([f"{label} {what}", login, f"{cpu_median * 1000:.2f}",
                     f"{Stats(cpu[(label, what, login)]).p95 * 1000:.2f}",
                     f"{Stats(wall[(label, what, login)]).median * 1000:.2f}", ratio])
    section = Section("login_cpu", "14. The CPU of one login: `--check` by SCRAM-SHA-256 (4096 iterations) and by "
                                   "trust, user + system time of the client per run",
                      table(["command", "login", "CPU median ms", "CPU p95 ms", "wall median ms",
                             "SCRAM CPU vs the same command's trust"], rows))
    for label, _ in common.pginit_builds():
        if "static" in label:
            scram = Stats(cpu[(label, "--check", "SCRAM-SHA-256")]).median
            trust = Stats(cpu[(label, "--check", "trust")]).median
            section.goals.append((f"{label}: a SCRAM --check ≤ 2x a trust --check (issue 28)", scram <= 2 * trust,
                                  f"{scram / trust:.2f}x ({scram * 1000:.2f} vs {trust * 1000:.2f} ms)"))
    section.notes.append(
        "CPU: the client's own user + system time (wait4's rusage), not the server's. The static build's libpq "
        "computes SCRAM's salted password over OpenSSL's SHA-256 with the HMAC's pads hashed once, its other "
        "hashes with PostgreSQL's own code and its nonce with getrandom(2), so that a login without TLS never sets "
        "up OpenSSL (scripts/patches/libpq-*.patch); "
        "\"before issue 28\" is the same pginit linked with libpq as Debian's source has it "
        "(PGINIT_LIBPQ_PATCHES=none scripts/build-static); the dynamic build and psql use Debian's shared libpq.")
    return section
