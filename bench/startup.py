"""Figures 2, 3 and 4: one readiness check, start-up with the database up, and exec-to-exit of
`X true` without a database, each timed by hyperfine against the peers in the same run."""
import common
from common import PG_ISREADY, PSQL, Section, dsn, hyperfine, ratio_goals, superuser_env, timing_table


def readiness_check(server):
    commands = {f"{label} --check (connect, authenticate, SELECT 1)": [path, "--quiet", "--check", "--dsn", dsn(server)]
                for label, path in common.pginit_builds()}
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
    for label, path in common.pginit_builds():
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
