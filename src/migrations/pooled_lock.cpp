#include "migrations/pooled_lock.h"

#include <charconv>
#include <chrono>
#include <random>

#include <fmt/format.h>

#include "log.h"

namespace pginit {
namespace {

using Clock = std::chrono::steady_clock;
constexpr Duration kHolderLogInterval{5000};

// A failed query: stopped, or a failure for the caller. Whatever went wrong, the lock's
// connection is of no further use, so every other failure counts as a lost connection.
LockOutcome interrupted(std::optional<PgFailure> failure) {
  if (failure->stopped) return LockOutcome{LockStatus::kStopped};
  failure->connection_lost = true;
  return LockOutcome{LockStatus::kFailed, std::move(failure)};
}

}  // namespace

PooledMigrationLock::PooledMigrationLock(asio::any_io_executor executor) : conn_(executor) {}

Task<LockOutcome> PooledMigrationLock::acquire(const ConnParams& params, Duration connect_timeout, std::int64_t key,
                                               Duration timeout, const BackoffPolicy& backoff, PgConn& observer) {
  std::minstd_rand random(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto started = Clock::now();
  auto last_log = started;
  if (auto failure = co_await conn_.connect(params, connect_timeout)) co_return interrupted(std::move(failure));
  conn_.mark_pooled();
  // READ COMMITTED: between statements the transaction holds no snapshot, so CREATE INDEX
  // CONCURRENTLY does not wait for it. The server's idle_in_transaction_session_timeout would end
  // the transaction, and the lock, in the middle of a long migration.
  const std::string try_lock = fmt::format(
      "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL idle_in_transaction_session_timeout = 0; "
      "SELECT pg_try_advisory_xact_lock(CAST({} AS bigint)), pg_backend_pid()",
      key);
  for (int attempt = 1;; ++attempt) {
    QueryResult tried = co_await conn_.query(try_lock);
    if (!tried.ok()) co_return interrupted(std::move(tried.failure));
    if (!tried.rows.empty() && tried.rows[0][0] == std::optional<std::string>("t")) {
      const std::string pid = tried.rows[0][1].value_or("0");
      int server_pid = 0;
      std::from_chars(pid.data(), pid.data() + pid.size(), server_pid);
      conn_.set_server_pid(server_pid);
      log::info("acquired the migration lock", {{"lock_key", key},
                                                {"waited_ms", since(started).count()},
                                                {"lock_kind", "transaction"}});
      co_return LockOutcome{LockStatus::kHeld};
    }
    // Give the server connection back to the pool while we wait.
    if (QueryResult rolled_back = co_await conn_.query("ROLLBACK"); !rolled_back.ok())
      co_return interrupted(std::move(rolled_back.failure));
    const Duration elapsed = since(started);
    if (timeout.count() > 0 && elapsed >= timeout) co_return LockOutcome{LockStatus::kTimedOut};
    if (Clock::now() - last_log >= kHolderLogInterval) {
      last_log = Clock::now();
      std::string holder = co_await describe_lock_holder(observer, key);
      log::info(fmt::format("waiting for the migration lock, held by {}", holder),
                {{"lock_key", key}, {"elapsed_ms", elapsed.count()}});
    }
    Duration delay = next_delay(attempt, Cost::kPolling, backoff, unit(random));
    if (timeout.count() > 0) delay = std::min(delay, timeout - elapsed);
    if (!co_await sleep_for(std::max(delay, Duration{1}))) co_return LockOutcome{LockStatus::kStopped};
  }
}

bool PooledMigrationLock::still_held() {
  return conn_.still_connected() && conn_.in_transaction();
}

Task<void> PooledMigrationLock::release() {
  if (conn_.connected()) {
    QueryResult ended = co_await conn_.query("ROLLBACK");
    if (!ended.ok())
      log::warn("could not end the migration lock's transaction; it ends with the connection",
                {{"reason", ended.failure->message}});
    else
      log::debug("released the migration lock (transaction ended)");
  }
  conn_.close();
}

void PooledMigrationLock::abandon() {
  conn_.close();
}

}  // namespace pginit
