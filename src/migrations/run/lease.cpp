#include "migrations/run/lease.h"

#include <unistd.h>
#include <charconv>
#include <random>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

#include "log.h"
#include "migrations/run/bookkeeping.h"

namespace pginit {
namespace {

// How long a look at the lease waits for its row when the holder's running file has it locked:
// that holder is at work, which is all the look needs to know.
constexpr Duration kRowWait{200};
constexpr std::string_view kLockNotAvailable = "55P03";

std::optional<LeaseSighting> sighting_of(const Row& row) {
  if (!row.at(1)) return std::nullopt;
  LeaseSighting seen{*row[1]};
  const std::string token = row.at(2).value_or("0");
  std::from_chars(token.data(), token.data() + token.size(), seen.token);
  return seen;
}

}  // namespace

std::string lease_holder_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device random;
  return fmt::format("{}:{}:{:08x}", host, getpid(), random());
}

MigrationLease::MigrationLease(asio::any_io_executor executor, std::string holder)
    : holder_(std::move(holder)), conn_(executor), next_renewal_(executor), renewal_done_(executor) {}

Task<LeaseClaim> MigrationLease::claim(PgConn& conn, const HistoryTable& table, bool take,
                                       const std::vector<std::int64_t>& exclusion_keys) {
  LeaseClaim outcome;
  const auto now = LeaseSightings::Clock::now();
  const std::string sql = bookkeeping_transaction(table.lease_sql(take, holder_, sightings_.stale(now), exclusion_keys),
                                                  conn.server_version(), kRowWait);
  QueryResult looked = co_await conn.query(sql);
  if (!looked.ok()) {
    if (conn.in_transaction()) co_await conn.query("ROLLBACK");
    if (looked.failure->sqlstate != kLockNotAvailable) {
      outcome.failure = std::move(looked.failure);
      co_return outcome;
    }
    sightings_.forget();  // its holder's file has the row: at work right now
    outcome.holder = "a replica whose migration file runs now";
    outcome.renewed_ago = "0";
    co_return outcome;
  }
  const Row& row = looked.rows.at(0);
  outcome.claimed = row.at(0) == std::optional<std::string>("t");
  if (outcome.claimed) {
    sightings_.forget();
    if (take) table_ = table;
    co_return outcome;
  }
  sightings_.see(sighting_of(row), now);
  outcome.holder = row[1].value_or("");
  outcome.renewed_ago = row.at(3).value_or("?");
  co_return outcome;
}

void MigrationLease::start_renewing(const ConnParams& params, Duration connect_timeout, bool reconnect_each_time) {
  params_ = params;
  connect_timeout_ = connect_timeout;
  reconnect_each_time_ = reconnect_each_time;
  stopping_ = false;
  renewing_ = true;
  renewal_done_.expires_at(std::chrono::steady_clock::time_point::max());
  asio::co_spawn(conn_.executor(), renew(), asio::detached);
}

std::string MigrationLease::renew_sql() const {
  return table_ ? table_->renew_lease_sql(holder_) : std::string();
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
  while (!stopping_ && table_) {
    next_renewal_.expires_after(kPeriod / 3);
    auto [error] = co_await next_renewal_.async_wait(kAsValues);
    if (error || stopping_) break;
    if (!co_await connected() || stopping_) continue;
    const std::string renew_sql =
        bookkeeping_transaction(table_->renew_lease_sql(holder_), conn_.server_version(), kRowWait);
    QueryResult renewed = co_await conn_.query(renew_sql, kNoParams, connect_timeout_);
    if (!renewed.ok()) {
      // The holder's own file may have the row (and renews it as it commits); the next try comes soon.
      log::debug("could not renew the migration lease", {{"reason", renewed.failure->message}});
      conn_.close();  // connect again next time
    } else if (reconnect_each_time_) {
      conn_.close();
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
  const std::string end_sql = table_->end_lease_sql(holder_);
  // Over the migration's connection when it is still there: no connection of its own to open.
  bool ended = false;
  if (migration_conn.connected() && !migration_conn.in_transaction()) {
    const std::string sql = bookkeeping_transaction(end_sql, migration_conn.server_version(), kRowWait);
    QueryResult deleted = co_await migration_conn.query(sql, kNoParams, connect_timeout_);
    ended = deleted.ok();
  }
  if (!ended && co_await connected()) {
    const std::string sql = bookkeeping_transaction(end_sql, conn_.server_version(), kRowWait);
    QueryResult deleted = co_await conn_.query(sql, kNoParams, connect_timeout_);
    if (!deleted.ok())
      log::debug("could not end the migration lease; it goes stale", {{"reason", deleted.failure->message}});
  }
  conn_.close();
  table_.reset();
}

}  // namespace pginit
