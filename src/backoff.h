#pragma once
#include "duration.h"

namespace pginit {

/// How expensive a failed attempt was for the server; cheap failures are retried sooner.
enum class Cost {
  kCheap,    ///< nothing listening, server starting up: retrying costs the server (almost) nothing
  kPolling,  ///< a healthy server answered "not yet" (lock busy, ready-sql false): poll calmly
  kCostly,   ///< too many connections, timeouts, DNS: back off up to --backoff-max
};

struct BackoffPolicy {
  Duration min{10};           ///< --backoff-min: the first delay
  Duration max{2000};         ///< --backoff-max: no delay is longer
  Duration cheap_max{50};     ///< cap for Cost::kCheap, so the app starts ~25ms after Postgres accepts
  Duration polling_max{500};  ///< cap for Cost::kPolling
};

/// Delay before attempt `attempt + 1`, after attempt `attempt` (1-based) failed at `cost`.
/// Exponential (min * 2^(attempt-1)) capped per cost and by policy.max, with "equal jitter":
/// the result lies in [cap/2, cap], `random_unit` in [0, 1) picking the point. Never below
/// policy.min unless policy.max is.
Duration next_delay(int attempt, Cost cost, const BackoffPolicy& policy, double random_unit);

}  // namespace pginit
