#include "migrations/run/lock.h"

#include <charconv>
#include <chrono>
#include <random>
#include <string_view>

#include <fmt/format.h>

#include "log.h"
#include "migrations/history/history.h"
#include "migrations/run/bookkeeping.h"

namespace pginit {
namespace {

using Clock = std::chrono::steady_clock;
constexpr Duration kHolderLogInterval{5000};

Task<std::string> describe_lock_holder(PgConn& conn, std::int64_t key) {
  auto [classid, objid] = lock_key_parts(key);
  const QueryParams params{std::to_string(classid), std::to_string(objid)};
  QueryResult holder = co_await conn.query(
      "SELECT l.pid, coalesce(a.application_name, ''), coalesce(a.client_addr::text, 'local') "
      "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
      "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid AND l.objid = $2::oid "
      "AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      params);
  if (!holder.ok() || holder.rows.empty()) co_return "another session";
  const Row& row = holder.rows[0];
  co_return fmt::format("pid {} (application_name={}, client={})", row[0].value_or("?"), row[1].value_or(""),
                        row[2].value_or("?"));
}

// The waiting side of the lock: the clock against `timeout` (0 = none), who holds the lock (logged
// at most every 5 s), and the delay before the next try.
class LockWait {
 public:
  LockWait(std::int64_t key, Duration timeout, const BackoffPolicy& backoff);
  Duration elapsed() const;
  bool timed_out() const;
  // Logs "waiting for the migration lock, held by pid N (…)", asking over `observer`, unless it did
  // less than 5 s ago.
  Task<void> report_holder(PgConn& observer);
  // The backoff before the try after `attempt`, within the timeout; at least 1 ms.
  Duration next_delay_after(int attempt);
  void log_acquired(std::string_view lock_kind) const;

 private:
  std::int64_t key_;
  Duration timeout_;
  const BackoffPolicy& backoff_;
  Clock::time_point started_;
  Clock::time_point last_report_;
  std::minstd_rand random_;
};

LockWait::LockWait(std::int64_t key, Duration timeout, const BackoffPolicy& backoff)
    : key_(key),
      timeout_(timeout),
      backoff_(backoff),
      started_(Clock::now()),
      last_report_(started_ - kHolderLogInterval),  // the first wait says who holds the lock at once
      random_(std::random_device{}()) {}

Duration LockWait::elapsed() const {
  return since(started_);
}

bool LockWait::timed_out() const {
  return timeout_.count() > 0 && elapsed() >= timeout_;
}

Task<void> LockWait::report_holder(PgConn& observer) {
  if (Clock::now() - last_report_ < kHolderLogInterval) co_return;
  last_report_ = Clock::now();
  const Duration waited = elapsed();
  std::string holder = co_await describe_lock_holder(observer, key_);
  log::info(fmt::format("waiting for the migration lock, held by {}", holder),
            {{"lock_key", key_}, {"elapsed_ms", waited.count()}});
}

Duration LockWait::next_delay_after(int attempt) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Duration delay = next_delay(attempt, Cost::kPolling, backoff_, unit(random_));
  if (timeout_.count() > 0) delay = std::min(delay, timeout_ - elapsed());
  return std::max(delay, Duration{1});
}

void LockWait::log_acquired(std::string_view lock_kind) const {
  log::info("acquired the migration lock",
            {{"lock_key", key_}, {"waited_ms", elapsed().count()}, {"lock_kind", std::string(lock_kind)}});
}

// A query on the way failed: stopped, or a failure for the caller (the connection may be lost).
LockOutcome interrupted(std::optional<PgFailure> failure) {
  if (failure->stopped) return LockOutcome{LockStatus::kStopped};
  return LockOutcome{LockStatus::kFailed, std::move(failure)};
}

}  // namespace

std::string lock_channel(std::int64_t key) {
  return fmt::format("pginit_lock_{}", key);
}

Task<LockOutcome> acquire_migration_lock(PgConn& conn, std::int64_t key, Duration timeout, const BackoffPolicy& backoff,
                                         int spare_connections) {
  LockWait wait(key, timeout, backoff);
  bool listening = false;
  for (int attempt = 1;; ++attempt) {
    const QueryParams params{std::to_string(key)};
    QueryResult tried = co_await conn.query(
        "SELECT pg_try_advisory_lock($1::bigint), current_setting('max_connections')::int - "
        "current_setting('superuser_reserved_connections')::int - "
        "coalesce(current_setting('reserved_connections', true), '0')::int - "
        "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')",
        params);
    if (!tried.ok()) co_return interrupted(std::move(tried.failure));
    if (!tried.rows.empty() && tried.rows[0][0] == std::optional<std::string>("t")) {
      if (listening) {
        const std::string unlisten = fmt::format("UNLISTEN \"{}\"", lock_channel(key));
        if (QueryResult done = co_await conn.query(unlisten); !done.ok())
          co_return interrupted(std::move(done.failure));
      }
      wait.log_acquired("session");
      co_return LockOutcome{LockStatus::kHeld};
    }
    if (wait.timed_out()) co_return LockOutcome{LockStatus::kTimedOut};
    if (spare_connections > 0 && !tried.rows.empty()) {
      const std::string free_text = tried.rows[0][1].value_or("0");
      int free_slots = 0;
      std::from_chars(free_text.data(), free_text.data() + free_text.size(), free_slots);
      if (free_slots < spare_connections) {
        log::debug("the migration lock is busy and the server nearly full: leaving the slot to others",
                   {{"free_slots", free_slots}, {"spare_connections", spare_connections}});
        co_return LockOutcome{LockStatus::kYielded};
      }
    }
    if (!listening) {
      // The holder's release notifies: a waiter starts the moment the lock is free instead of
      // at its next poll. Then try once more, as the lock may have gone before the LISTEN.
      const std::string listen = fmt::format("LISTEN \"{}\"", lock_channel(key));
      if (QueryResult done = co_await conn.query(listen); !done.ok()) co_return interrupted(std::move(done.failure));
      listening = true;
      continue;
    }
    co_await wait.report_holder(conn);
    // Still polled, more slowly: a holder that dies releases the lock without a notification.
    NotificationWait woke = co_await conn.wait_for_notification(wait.next_delay_after(attempt));
    if (woke.failure) co_return interrupted(std::move(woke.failure));
    if (woke.notified) log::debug("notified of a release of the migration lock: trying again", {{"lock_key", key}});
  }
}

Task<void> release_migration_lock(PgConn& conn, std::int64_t key) {
  const std::string release = bookkeeping_transaction(
      fmt::format("SELECT pg_advisory_unlock(CAST({} AS bigint)), pg_notify('{}', '')", key, lock_channel(key)),
      conn.server_version(), Duration{0});
  QueryResult released = co_await conn.query(release);
  if (!released.ok())
    log::warn("could not release the migration lock; it ends with the session",
              {{"reason", released.failure->message}});
  else
    log::debug("released the migration lock", {{"lock_key", key}});
}

}  // namespace pginit
