#include "migrations/history/history_queries.h"

#include <fmt/format.h>

#include "migrations/run/bookkeeping.h"

namespace pginit {
namespace {

// How long creating the tables waits for a lock held by someone else (a migration of theirs).
constexpr Duration kCreateLockTimeout{5000};

}  // namespace

Task<HistoryRead> read_history(PgConn& conn, const ToolHistory& history) {
  HistoryRead read;
  const std::string select = history.select_sql();
  QueryResult result = co_await conn.query(select);
  if (!result.ok()) {
    if (result.failure->sqlstate != "42P01" && result.failure->sqlstate != "3F000") read.failure = result.failure;
    co_return read;  // 42P01, 3F000: not created yet
  }
  read.rows = std::move(result.rows);
  co_return read;
}

Task<std::optional<std::string>> stored_fingerprint(PgConn& conn, const HistoryTable& table, const std::string& command,
                                                    std::optional<PgFailure>& failure) {
  const QueryParams params{command};
  const std::string select = table.select_fingerprint_sql();
  QueryResult result = co_await conn.query(select, params);
  if (!result.ok()) failure = result.failure;
  if (!result.ok() || result.rows.empty()) co_return std::nullopt;
  co_return result.rows[0][0];
}

Task<std::optional<PgFailure>> create_history_tables(PgConn& conn, const HistoryTable& bookkeeping,
                                                     const ToolHistory& history, std::int64_t lock_key) {
  auto [classid, objid] = lock_key_parts(lock_key);
  const std::string statements =
      fmt::format("SELECT pg_advisory_xact_lock({}, {}); {}; {}", static_cast<std::int32_t>(classid),
                  static_cast<std::int32_t>(objid), bookkeeping.create_bookkeeping_sql(), history.create_sql());
  const std::string create = bookkeeping_transaction(statements, conn.server_version(), kCreateLockTimeout);
  QueryResult created = co_await conn.query(create);
  if (created.ok()) co_return std::nullopt;
  if (conn.in_transaction()) co_await conn.query("ROLLBACK");
  co_return created.failure;
}

}  // namespace pginit
