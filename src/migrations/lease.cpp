#include "migrations/lease.h"

#include <unistd.h>
#include <random>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "log.h"

namespace pginit {

std::string lease_holder_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device random;
  return fmt::format("{}:{}:{:08x}", host, getpid(), random());
}

MigrationLease::MigrationLease(asio::any_io_executor executor, std::string holder)
    : holder_(std::move(holder)), conn_(executor), next_renewal_(executor), renewal_done_(executor) {}

Task<LeaseClaim> MigrationLease::claim(PgConn& conn, const HistoryTable& table, const ConnParams& params,
                                       Duration connect_timeout, bool take) {
  LeaseClaim outcome;
  const QueryParams claim_params{holder_, std::to_string(kPeriod.count() / 1000.0)};
  const std::string claim_sql = take ? table.claim_lease_sql() : table.free_lease_sql();
  QueryResult claimed = co_await conn.query(claim_sql, claim_params);
  if (!claimed.ok()) {
    outcome.failure = std::move(claimed.failure);
    co_return outcome;
  }
  if (claimed.rows.empty()) {
    const std::string holder_sql = table.lease_holder_sql();
    QueryResult holder = co_await conn.query(holder_sql);
    if (holder.ok() && !holder.rows.empty()) {
      outcome.holder = holder.rows[0][0].value_or("?");
      outcome.renewed_ago = holder.rows[0][1].value_or("?");
    }
    co_return outcome;
  }
  outcome.claimed = true;
  if (!take) co_return outcome;
  table_ = table;
  params_ = params;
  connect_timeout_ = connect_timeout;
  stopping_ = false;
  renewing_ = true;
  renewal_done_.expires_at(std::chrono::steady_clock::time_point::max());
  asio::co_spawn(conn_.executor(), renew(), asio::detached);
  co_return outcome;
}

Task<bool> MigrationLease::connected() {
  if (conn_.connected()) co_return true;
  const ConnParams params = params_;
  if (auto failure = co_await conn_.connect(params, connect_timeout_)) {
    log::debug("could not connect to renew the migration lease", {{"reason", failure->message}});
    co_return false;
  }
  co_return true;
}

Task<void> MigrationLease::renew() {
  const QueryParams params{holder_};
  const std::string renew_sql = table_->renew_lease_sql();
  while (!stopping_) {
    next_renewal_.expires_after(kPeriod / 3);
    auto [error] = co_await next_renewal_.async_wait(kAsValues);
    if (error || stopping_) break;
    if (!co_await connected() || stopping_) continue;
    QueryResult renewed = co_await conn_.query(renew_sql, params, connect_timeout_);
    if (!renewed.ok()) {
      log::debug("could not renew the migration lease", {{"reason", renewed.failure->message}});
      conn_.close();  // connect again next time
    }
  }
  renewing_ = false;
  renewal_done_.cancel();
}

Task<void> MigrationLease::end(PgConn& migration_conn) {
  if (!table_) co_return;
  stopping_ = true;
  next_renewal_.cancel();
  // A loop: after a stop request the wait may end at once (cancelled), before renew() has run.
  while (renewing_) co_await renewal_done_.async_wait(kAsValues);
  stopping_ = false;
  const QueryParams params{holder_};
  const std::string end_sql = table_->end_lease_sql();
  // Over the migration's connection when it is still there: no connection of its own to open.
  bool ended = false;
  if (migration_conn.connected() && !migration_conn.in_transaction()) {
    QueryResult deleted = co_await migration_conn.query(end_sql, params, connect_timeout_);
    ended = deleted.ok();
  }
  if (!ended && co_await connected()) {
    QueryResult deleted = co_await conn_.query(end_sql, params, connect_timeout_);
    if (!deleted.ok())
      log::debug("could not end the migration lease; it goes stale", {{"reason", deleted.failure->message}});
  }
  conn_.close();
  table_.reset();
}

}  // namespace pginit
