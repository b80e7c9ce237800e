#include "migrations/pooled_lock.h"

#include <charconv>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "log.h"

namespace pginit {
namespace {

// Long enough for a loaded server to answer a renewal, short enough that a lock whose holder has
// gone without a word blocks the next deploy only briefly.
constexpr Duration kLease{30'000};

// A failed query: stopped, or a failure for the caller. Whatever went wrong, the lock's
// connection is of no further use, so every other failure counts as a lost connection.
LockOutcome interrupted(std::optional<PgFailure> failure) {
  if (failure->stopped) return LockOutcome{LockStatus::kStopped};
  failure->connection_lost = true;
  return LockOutcome{LockStatus::kFailed, std::move(failure)};
}

}  // namespace

PooledMigrationLock::PooledMigrationLock(asio::any_io_executor executor)
    : conn_(executor), renewal_(executor), renewed_(executor) {}

Task<LockOutcome> PooledMigrationLock::acquire(const ConnParams& params, Duration connect_timeout, std::int64_t key,
                                               Duration timeout, const BackoffPolicy& backoff, PgConn& observer) {
  LockWait wait(key, timeout, backoff);
  if (auto failure = co_await conn_.connect(params, connect_timeout)) co_return interrupted(std::move(failure));
  conn_.mark_pooled();
  // READ COMMITTED: between statements the transaction holds no snapshot, so CREATE INDEX
  // CONCURRENTLY does not wait for it. Our own idle_in_transaction_session_timeout, whatever the
  // server's: the lease that renew_lease() keeps alive.
  const std::string try_lock = fmt::format(
      "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL idle_in_transaction_session_timeout = '{}ms'; "
      "SELECT pg_try_advisory_xact_lock(CAST({} AS bigint)), pg_backend_pid()",
      kLease.count(), key);
  for (int attempt = 1;; ++attempt) {
    QueryResult tried = co_await conn_.query(try_lock);
    if (!tried.ok()) co_return interrupted(std::move(tried.failure));
    if (!tried.rows.empty() && tried.rows[0][0] == std::optional<std::string>("t")) {
      const std::string pid = tried.rows[0][1].value_or("0");
      int server_pid = 0;
      std::from_chars(pid.data(), pid.data() + pid.size(), server_pid);
      conn_.set_server_pid(server_pid);
      wait.log_acquired("transaction");
      stopping_ = lease_lost_ = false;
      renewing_ = true;
      renewed_.expires_at(std::chrono::steady_clock::time_point::max());
      asio::co_spawn(conn_.executor(), renew_lease(), asio::detached);
      co_return LockOutcome{LockStatus::kHeld};
    }
    // Give the server connection back to the pool while we wait.
    if (QueryResult rolled_back = co_await conn_.query("ROLLBACK"); !rolled_back.ok())
      co_return interrupted(std::move(rolled_back.failure));
    if (wait.timed_out()) co_return LockOutcome{LockStatus::kTimedOut};
    co_await wait.report_holder(observer);
    if (!co_await sleep_for(wait.next_delay_after(attempt))) co_return LockOutcome{LockStatus::kStopped};
  }
}

Task<void> PooledMigrationLock::renew_lease() {
  while (!stopping_) {
    renewal_.expires_after(kLease / 3);
    auto [error] = co_await renewal_.async_wait(kAsValues);
    if (error || stopping_) break;
    renewal_in_flight_ = true;
    QueryResult renewed = co_await conn_.query("SELECT 1");
    renewal_in_flight_ = false;
    if (!renewed.ok()) {
      lease_lost_ = true;
      if (!stopping_)
        log::warn("the connection that holds the migration lock failed", {{"reason", renewed.failure->message}});
      break;
    }
  }
  renewing_ = false;
  renewed_.cancel();
}

Task<void> PooledMigrationLock::stop_renewing() {
  stopping_ = true;
  renewal_.cancel();
  // A loop: after a stop request the wait may end at once (cancelled), before renew_lease() has run.
  while (renewing_) co_await renewed_.async_wait(kAsValues);
}

bool PooledMigrationLock::still_held() {
  if (lease_lost_) return false;
  // While a renewal waits for its answer, reading the socket here would take that answer from it.
  if (renewal_in_flight_) return true;
  return conn_.still_connected() && conn_.in_transaction();
}

Task<void> PooledMigrationLock::release() {
  co_await stop_renewing();
  if (conn_.connected() && !lease_lost_) {
    QueryResult ended = co_await conn_.query("ROLLBACK");
    if (!ended.ok())
      log::warn("could not end the migration lock's transaction; it ends with the connection",
                {{"reason", ended.failure->message}});
    else
      log::debug("released the migration lock (transaction ended)");
  }
  conn_.close();
}

Task<void> PooledMigrationLock::abandon() {
  co_await stop_renewing();
  conn_.close();
}

}  // namespace pginit
