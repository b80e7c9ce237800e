#!/usr/bin/env python3
"""The long fault campaign (tests/integration/campaign.py) with a seed of its own: rounds, faults per kind,
exit codes and violations (the goal: 0), in bench/campaign.md and README's Reliability section."""
import argparse
import collections
import random
import re
import signal
import sys
import time

import common  # noqa: F401  (puts tests/integration on the path)
from bench import README, machine
from campaign import FAULTS, campaign
from common import HERE, table

RESULTS = f"{HERE}/campaign.md"


def topology_of(plan):
    if plan.topology == "pgbouncer":
        return f"pgbouncer, {plan.pool_mode} pooling"
    return plan.topology


def markdown(seeds, reports, faults, seconds):
    rounds = collections.Counter(topology_of(r.plan) for r in reports)
    pools = collections.Counter(r.plan.pool_size for r in reports if r.plan.topology == "pgbouncer")
    exits = collections.Counter(code for r in reports for code in r.exit_codes)
    violations = [f"seed {r.plan.seed} round {r.plan.number} ({topology_of(r.plan)}, faults "
                  f"{[k for _, k, _ in r.plan.faults]}): {v}" for r in reports for v in r.violations]
    harness = [f"seed {r.plan.seed} round {r.plan.number} ({topology_of(r.plan)}): {h}" for r in reports
               for h in r.harness]
    per_seed = [[seed, sum(r.plan.seed == seed for r in reports),
                 sum(len(r.violations) for r in reports if r.plan.seed == seed),
                 sum(len(r.harness) for r in reports if r.plan.seed == seed)] for seed in seeds]
    lines = ["# Fault campaign", "", f"Run by `bench/campaign` on {machine()}: {len(seeds)} seed(s), {len(reports)} "
             f"rounds in {seconds / 60:.0f} min, {sum(r.plan.replicas for r in reports)} faulted replicas and a clean "
             "run after every round. Replay round N of seed S with `bench/campaign --seed S --round N` (rounds are "
             "planned from the seed and their number alone).", "",
             table(["seed", "rounds", "violations", "harness failures"], per_seed), "",
             table(["topology", "rounds"], [[name, n] for name, n in sorted(rounds.items())]), "",
             table(["PgBouncer pool size", "rounds"], [[size, n] for size, n in sorted(pools.items())]), "",
             table(["fault", "injected"], [[kind, faults[kind]] for kind in sorted(faults)]), "",
             table(["exit code of a faulted replica", "replicas"],
                   [[code if isinstance(code, int) and code >= 0 else f"killed by signal {-code}"
                     if isinstance(code, int) else code, n]
                    for code, n in sorted(exits.items(), key=lambda item: str(item[0]))]), "",
             f"- Goal no invariant violated: **{'met' if not violations else 'MISSED'}** ({len(violations)} "
             "violations)",
             f"- Goal no harness failure (a round the checker could not judge): "
             f"**{'met' if not harness else 'MISSED'}** ({len(harness)})"]
    lines += [f"  - {v}" for v in violations + harness]
    lines += ["", "Invariants checked after every round: a transactional file applied at most once; no two "
              "no-transaction files or migrate commands at the same time; history matches the schema; no advisory "
              "lock left once every replica has exited; every exit code a documented one; no replica past its "
              "limit, no migrate command outliving its pginit. After the clean run that follows: every file "
              "exactly once."]
    return "\n".join(lines) + "\n"


def update_readme(text):
    body = text.split("\n", 2)[2]
    readme = open(README).read()
    new = re.sub(r"(<!-- campaign:begin -->\n).*?(<!-- campaign:end -->)", lambda m: m.group(1) + body + m.group(2),
                 readme, flags=re.S)
    with open(README, "w") as f:
        f.write(new)


def main(argv):
    # A TERM (CI's time limit, a Ctrl-C elsewhere) still removes the campaign's servers and namespaces.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200, help="rounds per seed")
    parser.add_argument("--seed", type=int, help="one seed (default: a new one)")
    parser.add_argument("--seeds", help="several seeds, comma-separated, --rounds each")
    parser.add_argument("--topologies", default=",".join(FAULTS))
    parser.add_argument("--round", type=int, help="replay this round of the seed only (prints, writes nothing)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave campaign.md and README alone")
    args = parser.parse_args(argv)
    if args.seeds:
        seeds = [int(seed) for seed in args.seeds.split(",")]
    else:
        seeds = [args.seed if args.seed is not None else random.SystemRandom().randrange(1, 2**31)]
    started, reports, faults = time.monotonic(), [], collections.Counter()
    for seed in seeds:
        with campaign(seed, topologies=args.topologies.split(","), log=lambda line: print(line, flush=True)) as run:
            reports += run.run(args.rounds, only=args.round)
            faults.update(run.faults)
    text = markdown(seeds, reports, faults, time.monotonic() - started)
    print("\n" + text)
    if not args.no_write and not args.round:
        with open(RESULTS, "w") as f:
            f.write(text)
        update_readme(text)
    return 0 if all(not r.violations and not r.harness for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
