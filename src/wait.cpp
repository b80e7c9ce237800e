#include "wait.h"

#include <algorithm>
#include <chrono>
#include <random>

#include <fmt/format.h>

#include "log.h"
#include "pg_error.h"

namespace pginit {
namespace {

using Clock = std::chrono::steady_clock;
constexpr Duration kProgressInterval{5000};
constexpr Duration kCancelTimeout{1000};

bool is_true_value(const std::optional<std::string>& value) {
  return value.has_value() && *value != "f" && *value != "false";
}

// One attempt: connect (unless `conn` came connected from an earlier phase), then the readiness
// query. nullopt = ready.
Task<std::optional<Verdict>> attempt_once(PgConn& conn, const WaitRequest& request, Duration budget, bool& stopped) {
  auto started = Clock::now();
  // A session taken over is asked at once; should it have gone meanwhile, the query fails and the
  // next attempt connects.
  if (!conn.connected()) {
    if (auto failure = co_await conn.connect(request.params, budget)) {
      stopped = failure->stopped;
      co_return classify_failure(failure->sqlstate, failure->message);
    }
  }
  Duration left = std::max(Duration{1}, budget - since(started));
  QueryResult result = co_await conn.query(request.ready_sql, kNoParams, left);
  if (!result.ok()) {
    stopped = result.failure->stopped;
    // A long --ready-sql would otherwise run on after we are gone.
    if (stopped || result.failure->timed_out) co_await conn.cancel_running_query(kCancelTimeout);
    conn.close();
    co_return classify_failure(result.failure->sqlstate, result.failure->message);
  }
  if (!result.returned_rows) co_return std::nullopt;  // a command (e.g. SET) that succeeded
  if (!result.rows.empty() && !result.rows[0].empty() && is_true_value(result.rows[0][0])) co_return std::nullopt;
  conn.close();
  co_return Verdict{true, Cost::kPolling, ExitCode::kNotReady, request.not_ready_reason};
}

}  // namespace

Task<WaitOutcome> wait_until_ready(PgConn& conn, const WaitRequest& request) {
  std::minstd_rand random(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto started = Clock::now();
  auto last_progress = started;
  const bool has_deadline = request.timeout.count() > 0;
  std::string last_reason;  // of the last attempt that the deadline did not cut short

  const LogLevel announce_level = request.announce ? LogLevel::kInfo : LogLevel::kDebug;
  log::write(announce_level, fmt::format("waiting for {} at {}", request.purpose, request.target),
             {{"timeout", has_deadline ? format_duration(request.timeout) : "none"}});
  BackoffSteps steps;
  for (int attempt = 1;; ++attempt) {
    Duration budget = request.connect_timeout;
    if (has_deadline) budget = std::clamp(request.timeout - since(started), Duration{1}, budget);
    bool stopped = false;
    const auto attempt_started = Clock::now();
    std::optional<Verdict> verdict = co_await attempt_once(conn, request, budget, stopped);
    if (stopped || co_await stop_requested()) co_return WaitOutcome{.stopped = true};
    if (!verdict) {
      log::write(announce_level,
                 fmt::format("{} is ready after {} ({} attempt{})", request.purpose, format_duration(since(started)),
                             attempt, attempt == 1 ? "" : "s"),
                 {{"elapsed_ms", since(started).count()}, {"attempts", attempt}});
      co_return WaitOutcome{.ready = true};
    }
    if (!verdict->transient) {
      log::failure(verdict->exit_code, fmt::format("cannot connect to {}: {}", request.target, verdict->reason),
                   {{"attempts", attempt}});
      co_return WaitOutcome{.code = verdict->exit_code};
    }
    const Duration elapsed = since(started);
    const bool cut_short_by_deadline = has_deadline && budget < request.connect_timeout && elapsed >= request.timeout;
    if (!cut_short_by_deadline || last_reason.empty()) last_reason = verdict->reason;
    if (request.single_attempt || (has_deadline && elapsed >= request.timeout)) {
      log::failure(ExitCode::kNotReady,
                   fmt::format("{} at {} is not ready after {} ({} attempt{}): {}", request.purpose, request.target,
                               format_duration(elapsed), attempt, attempt == 1 ? "" : "s", last_reason),
                   {{"attempts", attempt}});
      co_return WaitOutcome{.code = ExitCode::kNotReady};
    }
    // The backoff counts from the attempt's start: one that used up its --connect-timeout (packets
    // dropped, a hung server) has waited long enough, and the next one starts at once.
    Duration delay = std::max(Duration{0}, next_delay(steps.after(verdict->cost, verdict->reason), verdict->cost,
                                                      request.backoff, unit(random)) -
                                               since(attempt_started));
    if (has_deadline) delay = std::min(delay, request.timeout - elapsed);
    log::debug("attempt failed",
               {{"attempt", attempt}, {"reason", verdict->reason}, {"next_delay", format_duration(delay)}});
    if (Clock::now() - last_progress >= kProgressInterval) {
      last_progress = Clock::now();
      log::info(fmt::format("still waiting for {} after {}, {} attempts: {}", request.target, format_duration(elapsed),
                            attempt, verdict->reason),
                {{"elapsed_ms", elapsed.count()}, {"attempts", attempt}});
    }
    if (!co_await sleep_for(delay)) co_return WaitOutcome{.stopped = true};
  }
}

}  // namespace pginit
