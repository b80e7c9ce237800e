#include "migrations/pooled_lock.h"

#include <charconv>

#include <fmt/format.h>

#include "log.h"

namespace pginit {
namespace {

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
  LockWait wait(key, timeout, backoff);
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
      wait.log_acquired("transaction");
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
