#include <doctest.h>

#include "backoff.h"

using namespace pginit;
using namespace std::chrono_literals;

namespace {
// Every delay of `cost`, for early and late attempts and the whole random range, within [lowest, highest],
// even with a --backoff-max below them.
void check_delays_within(Cost cost, Duration lowest, Duration highest) {
  BackoffPolicy policy;
  policy.max = Duration{100};
  for (int attempt : {1, 2, 10, 1000}) {
    for (double r : {0.0, 0.5, 0.999, 1.0}) {
      CAPTURE(attempt);
      CAPTURE(r);
      const Duration delay = next_delay(attempt, cost, policy, r);
      CHECK(delay >= lowest);
      CHECK(delay <= highest);
    }
  }
}
}  // namespace

TEST_CASE("backoff: first delay is backoff-min") {
  BackoffPolicy policy;
  CHECK(next_delay(1, Cost::kCostly, policy, 0.0) == policy.min);
  CHECK(next_delay(1, Cost::kCostly, policy, 0.99) == policy.min);
}

TEST_CASE("backoff: grows exponentially within [cap/2, cap]") {
  BackoffPolicy policy{.min = 10ms, .max = 10'000ms};
  CHECK(next_delay(2, Cost::kCostly, policy, 0.0) == 10ms);
  CHECK(next_delay(2, Cost::kCostly, policy, 1.0) == 20ms);
  CHECK(next_delay(5, Cost::kCostly, policy, 0.0) == 80ms);
  CHECK(next_delay(5, Cost::kCostly, policy, 1.0) == 160ms);
}

TEST_CASE("backoff: never exceeds backoff-max, whatever the attempt") {
  BackoffPolicy policy{.min = 10ms, .max = 2000ms};
  for (int attempt : {1, 10, 30, 64, 1000, 1 << 30}) {
    for (double r : {0.0, 0.5, 0.999999, 1.0}) {
      CAPTURE(attempt);
      CHECK(next_delay(attempt, Cost::kCostly, policy, r) <= 2000ms);
      CHECK(next_delay(attempt, Cost::kCostly, policy, r) >= 10ms);
    }
  }
}

TEST_CASE("backoff: cheap failures retry sooner than costly ones") {
  BackoffPolicy policy;
  CHECK(next_delay(20, Cost::kRefused, policy, 1.0) == policy.refused_max);
  CHECK(policy.refused_max < policy.cheap_max);
  CHECK(next_delay(20, Cost::kCheap, policy, 1.0) == policy.cheap_max);
  CHECK(next_delay(20, Cost::kPolling, policy, 1.0) == policy.polling_max);
  CHECK(next_delay(20, Cost::kCostly, policy, 1.0) == policy.max);
  CHECK(next_delay(20, Cost::kCheap, policy, 0.0) == policy.cheap_max / 2);
}

TEST_CASE("backoff: refusals are retried soon for a while, then at the cheap cap") {
  BackoffPolicy policy;
  CHECK(next_delay(policy.refused_quick_steps, Cost::kRefused, policy, 1.0) == policy.refused_max);
  CHECK(next_delay(policy.refused_quick_steps + 1, Cost::kRefused, policy, 1.0) == policy.cheap_max);
}

TEST_CASE("backoff: a backoff-max below the cheap cap still wins") {
  BackoffPolicy policy{.min = 5ms, .max = 20ms};
  CHECK(next_delay(20, Cost::kCheap, policy, 1.0) == 20ms);
}

TEST_CASE("backoff: jitter spreads delays") {
  BackoffPolicy policy;
  CHECK(next_delay(8, Cost::kCostly, policy, 0.1) != next_delay(8, Cost::kCostly, policy, 0.9));
}

TEST_CASE("backoff steps: count up while the failure stays the same") {
  BackoffSteps steps;
  for (int expected = 1; expected <= 5; ++expected)
    CHECK(steps.after(Cost::kRefused, "connection refused") == expected);
}

TEST_CASE("backoff steps: a server that moves on to its next cheap state is retried soon again") {
  BackoffSteps steps;
  for (int i = 0; i < 30; ++i) steps.after(Cost::kRefused, "connection refused");
  CHECK(steps.after(Cost::kCheap, "the database system is starting up") == 1);
  CHECK(steps.after(Cost::kCheap, "the database system is starting up") == 2);
  CHECK(steps.after(Cost::kCheap, "the database system is starting up") == 3);
  // A crash: refused again, after the startup lasted a while.
  CHECK(steps.after(Cost::kRefused, "connection refused") == 1);
}

TEST_CASE("backoff steps: costly failures and alternating reasons never start over") {
  BackoffSteps costly;
  for (int i = 0; i < 5; ++i) costly.after(Cost::kCostly, "connection attempt timed out");
  CHECK(costly.after(Cost::kCostly, "no route to host") == 6);
  CHECK(costly.after(Cost::kCostly, "connection attempt timed out") == 7);

  BackoffSteps alternating;
  for (int i = 1; i <= 10; ++i) {
    CHECK(alternating.after(i % 2 == 0 ? Cost::kRefused : Cost::kCheap,
                            i % 2 == 0 ? "connection refused" : "the database system is starting up") == i);
  }
}

TEST_CASE(
    "backoff: a pooler that cannot reach its server is tried at most twice a second, even with a small "
    "--backoff-max") {
  BackoffPolicy policy;
  check_delays_within(Cost::kPooler, policy.pooler_min, policy.pooler_max);
  CHECK(policy.pooler_min >= Duration{500});
}

TEST_CASE("backoff: a full server's refusals are spread over a window that doubles (full jitter)") {
  BackoffPolicy policy;
  // The whole first window is used, from --backoff-min up: a herd refused together does not come back together.
  CHECK(next_delay(1, Cost::kFull, policy, 0.0) == policy.min);
  CHECK(next_delay(1, Cost::kFull, policy, 0.5) == policy.full_window / 2);
  CHECK(next_delay(1, Cost::kFull, policy, 1.0) == policy.full_window);
  CHECK(next_delay(2, Cost::kFull, policy, 1.0) == 2 * policy.full_window);
  CHECK(next_delay(4, Cost::kFull, policy, 1.0) == 8 * policy.full_window);
  // Beyond --backoff-max (2 s): a herd larger than the server's slots keeps its windows growing.
  CHECK(policy.full_max > policy.max);
  CHECK(next_delay(30, Cost::kFull, policy, 1.0) == policy.full_max);
  BackoffPolicy patient;
  patient.max = Duration{30000};
  CHECK(next_delay(30, Cost::kFull, patient, 1.0) == patient.max);
}

TEST_CASE("backoff: a look that costs a login comes at most once a second, whatever the attempt or --backoff-max") {
  BackoffPolicy policy;
  check_delays_within(Cost::kLogin, Duration{1000}, policy.login_max);
  policy.max = Duration{100};
  CHECK(next_delay(1, Cost::kLogin, policy, 0.5) == Duration{1500});
}
