"""The randomized fault campaign (campaign.py), short: the rounds that once went wrong, replayed as they
were, then rounds of a seed that changes from run to run (PGINIT_CAMPAIGN_SEED replays one), so that each
run explores; its invariant checkers, shown to catch what they are for. bench/campaign runs long ones."""
import collections
import dataclasses
import os
import random
import sys

from campaign import (CAMPAIGN_SETTINGS, FAULTS, FORMATS, REGRESSION_ROUNDS, RoundPlan, campaign, describe, every_failure_says_why,
                      exactly_once_after_a_clean_run, exit_codes_documented, history_matches_schema, migrate_commands_one_at_a_time,
                      no_transaction_files_one_replica_at_a_time, plan_round, transactional_files_at_most_once)

SEED = 20261202
ROUNDS = int(os.environ.get("PGINIT_CAMPAIGN_ROUNDS", "10"))
RUN_SEED = int(os.environ.get("PGINIT_CAMPAIGN_SEED") or random.SystemRandom().randrange(1, 2**31))
PLAN = RoundPlan(1, "direct", 2, ((1, "tx"), (2, "tx"), (3, "notx")), True, (), 1.0)


def test_a_round_is_planned_from_the_seed_and_its_number_alone():
    assert plan_round(SEED, 4, ("direct", "pgbouncer")) == plan_round(SEED, 4, ("direct", "pgbouncer"))
    assert plan_round(SEED, 4, ("direct",)) != plan_round(SEED + 1, 4, ("direct",))
    for number in range(1, 200):
        plan = plan_round(SEED, number, tuple(FAULTS))
        assert all(kind in FAULTS[plan.topology] for _, kind, _ in plan.faults)


def test_the_invariant_checkers_catch_what_they_are_for():
    assert transactional_files_at_most_once(collections.Counter({2: 2}), PLAN) == ["file 2 applied 2 times"]
    assert transactional_files_at_most_once(collections.Counter({2: 1, 3: 2}), PLAN) == []  # 3 may run again
    assert no_transaction_files_one_replica_at_a_time([(3, 0), (3, 1)]) == [
        "no-transaction file 3 ran beside 1 other session(s)"]
    overlapping = [("start", 1.0, "7"), ("start", 1.2, "8"), ("end", 1.3, "7"), ("end", 1.5, "8")]
    assert migrate_commands_one_at_a_time(overlapping) == ["migrate commands overlapped: (1.0, 1.3) and (1.2, 1.5)"]
    in_turn = [("start", 1.0, "7"), ("end", 1.3, "7"), ("start", 1.4, "8"), ("end", 1.7, "8")]
    assert migrate_commands_one_at_a_time(in_turn) == []
    assert exit_codes_documented([0, 143, -9, 70]) == ["undocumented exit code 70"]
    assert every_failure_says_why([0, 65, 69], ["", "pginit: migration x failed (exit 65)", "pginit: lost"]) == [
        "a replica exited 69 without a line saying why: 'pginit: lost'"]
    assert history_matches_schema({1, 2}, {"t3"}, PLAN, transactional_only=True) == [
        "file 2: history has it, table t2 missing"]
    assert history_matches_schema({1, 2}, {"t2", "t3"}, PLAN, transactional_only=True) == []
    assert history_matches_schema({1, 2}, {"t2", "t3"}, PLAN, transactional_only=False) == [
        "file 3: history lacks it, table t3 exists"]
    assert exactly_once_after_a_clean_run(collections.Counter({2: 1}), [1, 2], set(), PLAN) == [
        "no-transaction file 3 never ran", "history [1, 2] is not every file [1, 2, 3]"]


def test_what_was_added_to_a_plan_later_leaves_the_earlier_seeds_rounds_as_they_were():
    plan = plan_round(61207, 39, tuple(FAULTS))
    assert (plan.topology, plan.replicas, len(plan.files)) == ("pgbouncer", 4, 19)
    assert [kind for _, kind, _ in plan.faults] == ["dropped packets"]
    assert plan.pool_mode in ("transaction", "session") and 1 <= plan.pool_size <= 4
    pinned = plan_round(61207, 39, tuple(FAULTS), REGRESSION_ROUNDS[0][2])
    assert pinned == dataclasses.replace(plan, pool_mode="transaction", pool_size=4, server_version="15",
                                         pgbouncer_version="1.18", settings=(), format="pginit")


def test_rounds_draw_servers_and_settings_each_has():
    plans = [plan_round(SEED, number, tuple(FAULTS)) for number in range(1, 400)]
    assert {plan.format for plan in plans} == set(FORMATS)
    assert {plan.server_version for plan in plans if plan.topology != "patroni"} == {"13", "15", "17", "18"}
    assert {plan.server_version for plan in plans if plan.topology == "patroni"} == {"15"}
    assert {name for plan in plans for name, _, _ in plan.settings} == set(CAMPAIGN_SETTINGS)
    for plan in plans:
        for name, _, place in plan.settings:
            assert int(plan.server_version) >= CAMPAIGN_SETTINGS[name][1] and place in ("role", "database")


def findings(reports):
    return [f"{describe(r.plan)}: {v}" for r in reports for v in r.violations + [f"harness: {h}" for h in r.harness]]


def test_the_rounds_that_once_went_wrong_now_run_to_a_clean_verdict():
    plans = [plan_round(seed, number, tuple(FAULTS), pinned) for seed, number, pinned in REGRESSION_ROUNDS]
    with campaign(0, topologies=tuple(FAULTS), log=lambda line: print(line, flush=True)) as running:
        reports = running.run_plans(plans)
    assert findings(reports) == []


def test_a_short_fault_campaign_with_a_new_seed_violates_nothing():
    print(f"campaign seed {RUN_SEED} (replay with PGINIT_CAMPAIGN_SEED={RUN_SEED})", file=sys.stderr, flush=True)
    with campaign(RUN_SEED, topologies=tuple(FAULTS), log=lambda line: print(line, flush=True)) as running:
        reports = running.run(ROUNDS)
    assert findings(reports) == [], f"campaign seed {RUN_SEED}: replay with PGINIT_CAMPAIGN_SEED={RUN_SEED}"
    assert sum(running.faults.values()) >= ROUNDS
