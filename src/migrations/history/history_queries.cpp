#include "migrations/history/history_queries.h"

#include <charconv>

#include <fmt/format.h>

#include "migrations/run/bookkeeping.h"

namespace pginit {
namespace {

// How long creating the tables waits for a lock held by someone else (a migration of theirs).
constexpr Duration kCreateLockTimeout{5000};

}  // namespace

Task<History> read_history(PgConn& conn, const HistoryTable& table) {
  History history;
  const std::string select = table.select_sql();
  QueryResult result = co_await conn.query(select);
  if (!result.ok()) {
    if (result.failure->sqlstate == "42P01" || result.failure->sqlstate == "3F000")
      co_return history;  // not created yet
    history.failure = result.failure;
    co_return history;
  }
  for (const Row& row : result.rows) {
    AppliedMigration applied;
    const std::string version = row[0].value_or("0");
    std::from_chars(version.data(), version.data() + version.size(), applied.version);
    applied.name = row[1].value_or("");
    applied.checksum = row[2].value_or("");
    history.rows.push_back(std::move(applied));
  }
  co_return history;
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

Task<std::optional<PgFailure>> create_history_tables(PgConn& conn, const HistoryTable& table, std::int64_t lock_key) {
  auto [classid, objid] = lock_key_parts(lock_key);
  const std::string statements =
      fmt::format("SELECT pg_advisory_xact_lock({}, {}); {}", static_cast<std::int32_t>(classid),
                  static_cast<std::int32_t>(objid), table.create_sql());
  const std::string create = bookkeeping_transaction(statements, conn.server_version(), kCreateLockTimeout);
  QueryResult created = co_await conn.query(create);
  if (created.ok()) co_return std::nullopt;
  if (conn.in_transaction()) co_await conn.query("ROLLBACK");
  co_return created.failure;
}

}  // namespace pginit
