#include "migrations/runner.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include <fmt/format.h>

#include "log.h"

namespace pginit {
namespace {

constexpr Duration kCancelTimeout{2000};

bool is_create_index_concurrently(std::string_view statement) {
  std::string words;
  for (char c : statement) {
    char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!words.empty() && words.back() != ' ') words += ' ';
    } else {
      words += lower;
    }
    if (words.size() > 64) break;
  }
  return words.starts_with("create index concurrently") || words.starts_with("create unique index concurrently");
}

std::string first_line_of(std::string_view statement) {
  std::string_view line = statement.substr(0, statement.find('\n'));
  if (line.size() > 80) return std::string(line.substr(0, 77)) + "...";
  return std::string(line);
}

void log_failure(const MigrationFile& file, const SqlStatement& statement, std::size_t index,
                 const PgFailure& failure) {
  int line = statement.line;
  if (failure.position) line += line_of_position(statement.text, *failure.position) - 1;
  std::string message =
      fmt::format("migration {} failed at line {} (statement {}): {}", file.filename, line, index + 1, failure.message);
  if (!failure.sqlstate.empty()) message += fmt::format(" [SQLSTATE {}]", failure.sqlstate);
  if (file.no_transaction && index > 0) {
    message += fmt::format("; this is a no-transaction file: its first {} statement(s) stay applied", index);
  }
  if (is_create_index_concurrently(statement.text)) {
    message +=
        "; CREATE INDEX CONCURRENTLY may have left an INVALID index: find it with "
        "\"SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid\" and DROP INDEX CONCURRENTLY it "
        "before the next run";
  }
  log::error(message + " (exit 65)", {{"file", file.filename},
                                      {"line", std::to_string(line)},
                                      {"sqlstate", failure.sqlstate},
                                      {"statement", first_line_of(statement.text)},
                                      {"hint", failure.hint}});
}

}  // namespace

Task<ApplyStatus> apply_migration(PgConn& conn, const MigrationFile& file, const std::vector<SqlStatement>& statements,
                                  const HistoryTable& history) {
  const auto started = std::chrono::steady_clock::now();
  const bool transactional = !file.no_transaction;
  log::info(fmt::format("applying migration {}", file.filename), {{"version", std::to_string(file.version)},
                                                                  {"statements", std::to_string(statements.size())},
                                                                  {"transaction", transactional ? "yes" : "no"}});

  auto abandon = [&](const PgFailure& failure) -> Task<ApplyStatus> {
    if (failure.stopped) {
      // The backend would otherwise run the statement to its end, holding its locks and ours.
      co_await conn.cancel_running_query(kCancelTimeout);
      co_return ApplyStatus::kStopped;
    }
    if (conn.in_transaction()) co_await conn.query("ROLLBACK");
    co_return ApplyStatus::kFailed;
  };

  if (transactional) {
    QueryResult begun = co_await conn.query("BEGIN");
    if (!begun.ok()) co_return co_await abandon(*begun.failure);
  }
  for (std::size_t index = 0; index < statements.size(); ++index) {
    QueryResult result = co_await conn.query(statements[index].text);
    if (!result.ok()) {
      if (!result.failure->stopped) log_failure(file, statements[index], index, *result.failure);
      co_return co_await abandon(*result.failure);
    }
  }
  const auto duration = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
  const QueryParams row{std::to_string(file.version), file.name, file.checksum, std::to_string(duration.count())};
  const std::string insert = history.insert_sql();
  QueryResult recorded = co_await conn.query(insert, row);
  if (!recorded.ok()) {
    if (!recorded.failure->stopped) {
      log::error(fmt::format("could not record migration {} in {}: {} (exit 65)", file.filename, history.quoted(),
                             recorded.failure->message));
    }
    co_return co_await abandon(*recorded.failure);
  }
  if (transactional) {
    QueryResult committed = co_await conn.query("COMMIT");
    if (!committed.ok()) {
      if (!committed.failure->stopped) {
        log::error(
            fmt::format("migration {} failed at COMMIT: {} (exit 65)", file.filename, committed.failure->message));
      }
      co_return co_await abandon(*committed.failure);
    }
  }
  // A session-level SET in the file (pg_dump starts with search_path = '') would leak into the
  // next file; RESET ALL keeps the advisory lock, which DISCARD ALL would drop.
  const std::string reset = fmt::format("RESET ALL; {}", kMigrationSessionSql);
  if (QueryResult reset_done = co_await conn.query(reset); !reset_done.ok()) co_return co_await abandon(*reset_done.failure);
  log::info(fmt::format("applied migration {} in {}", file.filename, format_duration(duration)),
            {{"version", std::to_string(file.version)}, {"duration_ms", std::to_string(duration.count())}});
  co_return ApplyStatus::kApplied;
}

}  // namespace pginit
