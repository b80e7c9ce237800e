#pragma once
#include <string>
#include <string_view>

#include "duration.h"

namespace pginit {

/// How expensive a failed attempt was for the server; cheap failures are retried sooner.
enum class Cost {
  kRefused,  ///< nothing listening yet: only the server's kernel answers, so retrying costs it nothing
  kCheap,    ///< server starting up or shutting down: each try costs it a short-lived process
  kPolling,  ///< a healthy server answered "not yet" (lock busy, ready-sql false): poll calmly
  kCostly,   ///< too many connections, timeouts, DNS: back off up to --backoff-max
  kFull,     ///< too many connections: the replicas refused together would be refused together
             ///< again, so each waits a random point of a window (full jitter) that doubles
  kPooler,   ///< a pooler (PgBouncer) answered for a server it cannot reach: each try is a full
             ///< login to a single-threaded pooler, which itself retries the server only every
             ///< server_login_retry, so trying more often than twice a second gains nothing
  kLogin,    ///< a healthy server, but each try is a login of its own (a waiter through a pooler
             ///< keeps no connection between its looks): at most one a second
};

struct BackoffPolicy {
  Duration min{10};               ///< --backoff-min: the first delay
  Duration max{2000};             ///< --backoff-max: no delay is longer
  Duration refused_max{20};       ///< cap for Cost::kRefused: the app starts ~10 ms after the port opens
  int refused_quick_steps = 500;  ///< refusals retried that soon (7-10 s), then at cheap_max: a long outage
  Duration cheap_max{50};         ///< cap for Cost::kCheap
  Duration polling_max{500};      ///< cap for Cost::kPolling
  Duration full_window{1000};     ///< Cost::kFull's first window, doubled each time, up to full_max
  /// Cost::kFull's longest window (or max, when longer). A herd larger than the server's slots keeps
  /// coming back refused while the windows stay at 2 s: 300 replicas against 27 slots made 4.6
  /// refusals each with 2 s, 2.4 with 8 s, and their apps started in half the time (median), the
  /// last as late (bench/results.md, figure 13).
  Duration full_max{8000};
  Duration pooler_min{500};   ///< floor for Cost::kPooler, whatever --backoff-max says
  Duration pooler_max{1000};  ///< cap for Cost::kPooler
  Duration login_min{1000};   ///< floor for Cost::kLogin, whatever --backoff-max says
  Duration login_max{2000};   ///< cap for Cost::kLogin
};

/// Delay before attempt `attempt + 1`, after attempt `attempt` (1-based) failed at `cost`.
/// Exponential (min * 2^(attempt-1)) capped per cost and by policy.max, with "equal jitter":
/// the result lies in [cap/2, cap], `random_unit` in [0, 1) picking the point. Never below
/// policy.min unless policy.max is. Cost::kPooler lies in [pooler_min, pooler_max] always, Cost::kLogin
/// in [login_min, login_max].
/// Cost::kFull lies anywhere in [min, window] (full jitter), the window full_window * 2^(attempt-1)
/// up to max(policy.max, full_max): a herd refused at once spreads over the window.
Duration next_delay(int attempt, Cost cost, const BackoffPolicy& policy, double random_unit);

/// The step (the `attempt` of next_delay) for the delay after each failed attempt. It counts up,
/// and starts again at 1 when a cheap (or refused) failure changes its reason after lasting two attempts or
/// more: the server moved on (connection refused, then starting up), and its next state is often
/// brief, so its end is seen within milliseconds rather than at the cap. Costly failures never
/// start it again, and neither do reasons that alternate attempt by attempt.
class BackoffSteps {
 public:
  int after(Cost cost, std::string_view reason);

 private:
  int step_ = 0;
  int same_reason_ = 0;  ///< consecutive attempts that failed with reason_
  std::string reason_;
};

}  // namespace pginit
