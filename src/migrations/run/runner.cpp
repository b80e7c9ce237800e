#include "migrations/run/runner.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <functional>
#include <random>

#include <fmt/format.h>

#include "log.h"
#include "migrations/run/blockers.h"
#include "migrations/run/bookkeeping.h"
#include "pg_error.h"

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

// The server ended the session for a timeout of its settings (transaction_timeout, 17+, say): not a
// link or a server that went away.
bool ended_by_a_timeout(const PgFailure& failure) {
  return failure.connection_lost && timeout_setting(failure.sqlstate, failure.message).has_value();
}

// The server's message, its SQLSTATE, and the setting whose timeout it was, if one was.
std::string failure_text(const PgFailure& failure) {
  std::string text = failure.message;
  if (!failure.sqlstate.empty()) text += fmt::format(" [SQLSTATE {}]", failure.sqlstate);
  if (std::optional<std::string_view> setting = timeout_setting(failure.sqlstate, failure.message)) {
    text += fmt::format(
        "; the server's {} ended it (the role's, the database's or the server's setting, under "
        "which migration files run)",
        *setting);
  }
  return text;
}

std::string first_line_of(std::string_view statement) {
  std::string_view line = statement.substr(0, statement.find('\n'));
  if (line.size() > 80) return std::string(line.substr(0, 77)) + "...";
  return std::string(line);
}

void log_failure(const MigrationFile& file, const SqlStatement& statement, std::size_t index, const PgFailure& failure,
                 const ApplyOptions& options) {
  int line = statement.line;
  if (failure.position) line += line_of_position(statement.text, *failure.position) - 1;
  std::string message = fmt::format("migration {} failed at line {} (statement {}): {}", file.filename, line, index + 1,
                                    failure_text(failure));
  if (file.no_transaction && index > 0) {
    message += fmt::format("; this is a no-transaction file: its first {} statement(s) stay applied", index);
  }
  if (file.no_transaction && options.interrupted_at) {
    message += fmt::format(
        "; an earlier attempt lost its connection at statement {} of this file, so statements up to there may "
        "already be applied: write no-transaction files to be idempotent (CREATE INDEX CONCURRENTLY IF NOT "
        "EXISTS, DROP INDEX IF EXISTS for an INVALID index)",
        *options.interrupted_at);
  }
  if (is_create_index_concurrently(statement.text)) {
    message +=
        "; CREATE INDEX CONCURRENTLY may have left an INVALID index: find it with "
        "\"SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid\" and DROP INDEX CONCURRENTLY it "
        "before the next run";
  }
  log::failure(ExitCode::kMigrationFailed, message,
               {{"file", file.filename},
                {"line", line},
                {"statement_number", index + 1},
                {"sqlstate", failure.sqlstate},
                {"statement", first_line_of(statement.text)},
                {"hint", failure.hint}});
}

// One run of a file, from BEGIN to the history row.
struct Run {
  ApplyResult result;
  bool lock_timed_out = false;    ///< a statement waited longer than lock_timeout: try the file again
  std::vector<Blocker> blockers;  ///< who held the lock it waited for
};

class FileRun {
 public:
  FileRun(PgConn& conn, const MigrationFile& file, const std::vector<SqlStatement>& statements,
          const ToolHistory& history, const ApplyOptions& options, std::chrono::steady_clock::time_point started)
      : conn_(conn), file_(file), statements_(statements), history_(history), options_(options), started_(started) {}

  Task<Run> run() {
    const bool transactional = !file_.no_transaction;
    std::optional<Run> failed = co_await mark_start();
    if (failed) co_return *failed;
    if (!transactional)
      failed = co_await run_one_by_one();
    else if (file_.splitting == Splitting::kSections)
      failed = co_await run_sections_in_a_transaction();
    else
      failed = co_await run_pipelined();
    if (failed) co_return *failed;
    const Duration duration = since(started_);
    const std::string finish = finishing_sql(duration);
    QueryResult finished = co_await conn_.query(finish);
    conn_.set_server_pid(0);
    if (!finished.ok()) {
      if (!finished.failure->stopped && (!finished.failure->connection_lost || ended_by_a_timeout(*finished.failure))) {
        log::failure(
            ExitCode::kMigrationFailed,
            fmt::format("migration {} failed while recording it in {}{}: {}", file_.filename, history_.quoted(),
                        transactional ? " or at COMMIT" : "", failure_text(*finished.failure)));
      }
      co_return co_await abandon(*finished.failure, statements_.size());
    }
    log::info(fmt::format("applied migration {} in {}", file_.filename, format_duration(duration)),
              {{"version", file_.version}, {"duration_ms", duration.count()}});
    co_return Run{};
  }

 private:
  // The history row, COMMIT and the reset of the session in one round trip: a transactional file
  // costs two round trips however long it is. A session-level SET in the file (pg_dump starts
  // with search_path = '') would leak into the next file; RESET ALL keeps the advisory lock,
  // which DISCARD ALL would drop. Through a pooler the reset comes before COMMIT, on the server
  // connection the file ran on (the next statement may run on another one), with the lease renewed
  // as of the file's end; a no-transaction file there has no session settings to reset
  // (pooler_safety.h). A no-transaction file's history row goes in a transaction of pginit's own,
  // whatever the session's defaults say.
  std::string finishing_sql(Duration duration) const {
    const std::string history_row = history_.record_sql(file_, duration.count());
    const int version = conn_.server_version();
    if (file_.no_transaction) {
      const std::string recorded = bookkeeping_transaction(history_row, version, Duration{0});
      return conn_.pooled() ? recorded : fmt::format("{}; RESET ALL; {}", recorded, migration_session_sql(version));
    }
    if (conn_.pooled()) return fmt::format("{}; {}; RESET ALL; COMMIT", history_row, options_.lease_fence);
    return fmt::format("{}; COMMIT; RESET ALL; {}", history_row, migration_session_sql(version));
  }

  // What the tool writes before a file it runs without a transaction (golang-migrate's dirty version,
  // Prisma's started row), in a transaction of pginit's own. nullopt on success.
  Task<std::optional<Run>> mark_start() {
    const std::string before = history_.before_sql(file_);
    if (before.empty()) co_return std::nullopt;
    const std::string sql = bookkeeping_transaction(before, conn_.server_version(), Duration{0});
    QueryResult marked = co_await conn_.query(sql);
    if (marked.ok()) co_return std::nullopt;
    if (!marked.failure->stopped && !marked.failure->connection_lost) {
      log::failure(ExitCode::kMigrationFailed,
                   fmt::format("migration {} could not be marked as started in {}: {}", file_.filename,
                               history_.quoted(), failure_text(*marked.failure)));
    }
    co_return co_await abandon(*marked.failure, 0);
  }

  // Sections sent whole (one query each, as the format's tool sends them) in one transaction: the
  // extended protocol of a pipeline takes one statement per query, and a section may hold many.
  Task<std::optional<Run>> run_sections_in_a_transaction() {
    const bool lock_timeout = options_.lock_timeout.count() > 0;
    if (conn_.pooled()) {
      if (std::optional<Run> failed = co_await begin_pooled()) co_return failed;
    }
    std::string opening = conn_.pooled() ? "" : "BEGIN";
    if (lock_timeout) {
      opening +=
          fmt::format("{}SET LOCAL lock_timeout = '{}ms'", opening.empty() ? "" : "; ", options_.lock_timeout.count());
    }
    if (!opening.empty()) {
      if (QueryResult opened = co_await conn_.query(opening); !opened.ok()) {
        if (!opened.failure->stopped && !opened.failure->connection_lost) {
          log::failure(ExitCode::kMigrationFailed, fmt::format("migration {} could not open its transaction: {}",
                                                               file_.filename, failure_text(*opened.failure)));
        }
        co_return co_await abandon(*opened.failure, 0);
      }
    }
    std::optional<BlockerWatch> watch;
    if (lock_timeout) watch.emplace(conn_, options_.lock_timeout / 2);
    for (std::size_t index = 0; index < statements_.size(); ++index) {
      QueryResult result = co_await conn_.query(statements_[index].text);
      if (watch) watch->progress();
      if (result.ok()) continue;
      if (lock_timeout && result.failure->sqlstate == "55P03") {
        Run timed_out = co_await abandon(*result.failure, index + 1);
        timed_out.lock_timed_out = timed_out.result.status == ApplyStatus::kFailed;
        timed_out.result.statement = index + 1;
        timed_out.blockers = watch->seen();
        co_return timed_out;
      }
      co_return co_await statement_failed(*result.failure, index);
    }
    co_return std::nullopt;
  }

  // Through a pooler: the transaction's opening on its own, to learn which server process runs it
  // (for the blocker look-ups and a cancel on stop) and to hold the lease's row for the file's whole
  // run (pooled_file_opening_sql). nullopt on success.
  Task<std::optional<Run>> begin_pooled() {
    const std::string opening = pooled_file_opening_sql(conn_.server_version(), options_.lease_fence);
    QueryResult begun = co_await conn_.query(opening);
    if (!begun.ok()) {
      if (!begun.failure->stopped && !begun.failure->connection_lost) {
        log::failure(ExitCode::kMigrationFailed,
                     fmt::format("migration {} could not open its transaction through the pooler: {}", file_.filename,
                                 failure_text(*begun.failure)),
                     {{"file", file_.filename}, {"sqlstate", begun.failure->sqlstate}});
      }
      co_return co_await abandon(*begun.failure, 0);
    }
    if (begun.rows.empty()) {
      co_await conn_.query("ROLLBACK");
      Run lost;
      lost.result.status = ApplyStatus::kLeaseLost;
      co_return lost;
    }
    const std::string pid = begun.rows.at(0).at(0).value_or("0");
    int server_pid = 0;
    std::from_chars(pid.data(), pid.data() + pid.size(), server_pid);
    conn_.set_server_pid(server_pid);
    co_return std::nullopt;
  }

  // Through a pooler, before each statement of a no-transaction file: is the lease still ours?
  // (It is renewed meanwhile by its own connection, and a statement may run for minutes.)
  Task<std::optional<Run>> check_lease_before(std::size_t index) {
    if (!conn_.pooled() || options_.lease_fence.empty()) co_return std::nullopt;
    QueryResult renewed = co_await conn_.query(options_.lease_fence);
    if (!renewed.ok()) co_return co_await statement_failed(*renewed.failure, index, "renewing the migration lease");
    if (!renewed.rows.empty()) co_return std::nullopt;
    Run lost;
    lost.result = ApplyResult{ApplyStatus::kLeaseLost, index, "the migration lease was taken over"};
    co_return lost;
  }

  Task<Run> abandon(const PgFailure& failure, std::size_t statement) {
    Run run = co_await abandon_transaction(failure, statement);
    conn_.set_server_pid(0);
    co_return run;
  }

  Task<Run> abandon_transaction(const PgFailure& failure, std::size_t statement) {
    Run run;
    if (failure.stopped) {
      // The backend would otherwise run the statement to its end, holding its locks and ours.
      co_await conn_.cancel_running_query(kCancelTimeout);
      run.result.status = ApplyStatus::kStopped;
      co_return run;
    }
    // A session the server ended for a timeout of its settings would end again the same way: the
    // file fails (65) rather than running again as after a lost connection.
    if (failure.connection_lost && !ended_by_a_timeout(failure)) {
      run.result = ApplyResult{ApplyStatus::kConnectionLost, statement, failure.message};
      co_return run;
    }
    if (conn_.in_transaction()) co_await conn_.query("ROLLBACK");
    run.result.status = ApplyStatus::kFailed;
    run.result.reason = failure_text(failure);
    co_return run;
  }

  // BEGIN, the statements, and the answers, in one round trip: the server does not wait on us
  // between statements. nullopt when all succeeded, inside the open transaction.
  Task<std::optional<Run>> run_pipelined() {
    const bool lock_timeout = options_.lock_timeout.count() > 0;
    std::vector<std::string> pipeline;
    if (conn_.pooled()) {
      if (std::optional<Run> failed = co_await begin_pooled()) co_return failed;
    } else {
      pipeline.emplace_back("BEGIN");
    }
    // SET LOCAL ends with the transaction.
    if (lock_timeout) pipeline.push_back(fmt::format("SET LOCAL lock_timeout = '{}ms'", options_.lock_timeout.count()));
    const std::size_t first = pipeline.size();
    for (const SqlStatement& statement : statements_) pipeline.emplace_back(statement.text);
    std::optional<BlockerWatch> watch;
    if (lock_timeout) watch.emplace(conn_, options_.lock_timeout / 2);
    const std::function<void(std::size_t)> statement_done = [&watch](std::size_t) {
      if (watch) watch->progress();
    };
    PipelineResult result = co_await conn_.pipeline(pipeline, statement_done);
    if (result.ok()) co_return std::nullopt;
    const PgFailure& failure = *result.failure;
    if (result.completed < first) {
      if (!failure.stopped && !failure.connection_lost) {
        log::failure(
            ExitCode::kMigrationFailed,
            fmt::format("migration {} could not open its transaction: {}", file_.filename, failure_text(failure)),
            {{"file", file_.filename}, {"sqlstate", failure.sqlstate}});
      }
      co_return co_await abandon(failure, 0);
    }
    const std::size_t index = result.completed - first;
    if (lock_timeout && failure.sqlstate == "55P03") {
      Run timed_out = co_await abandon(failure, index + 1);
      timed_out.lock_timed_out = timed_out.result.status == ApplyStatus::kFailed;
      timed_out.result.statement = index + 1;
      timed_out.blockers = watch->seen();
      co_return timed_out;
    }
    co_return co_await statement_failed(failure, index);
  }

  // Each statement on its own, committed as it completes: what a no-transaction file promises.
  Task<std::optional<Run>> run_one_by_one() {
    for (std::size_t index = 0; index < statements_.size(); ++index) {
      if (std::optional<Run> lost = co_await check_lease_before(index)) co_return lost;
      QueryResult result = co_await conn_.query(statements_[index].text);
      if (!result.ok()) co_return co_await statement_failed(*result.failure, index);
    }
    co_return std::nullopt;
  }

  // Statement `index` (0-based) failed: say where, unless a stop or a lost connection ended it.
  // `step`: pginit's own statement that failed before it, if that is what failed.
  Task<Run> statement_failed(const PgFailure& failure, std::size_t index, std::string_view step = {}) {
    if (!failure.stopped && (!failure.connection_lost || ended_by_a_timeout(failure))) {
      if (step.empty() && index < statements_.size()) {
        log_failure(file_, statements_[index], index, failure, options_);
      } else {
        // A pipeline whose every statement completed can still fail at its end (a cancel that came late).
        const std::string where = step.empty() ? std::string("after its last statement")
                                               : fmt::format("before statement {}, {}", index + 1, step);
        log::failure(ExitCode::kMigrationFailed,
                     fmt::format("migration {} failed {}: {}", file_.filename, where, failure_text(failure)),
                     {{"file", file_.filename}, {"sqlstate", failure.sqlstate}});
      }
    }
    co_return co_await abandon(failure, index + 1);
  }

  PgConn& conn_;
  const MigrationFile& file_;
  const std::vector<SqlStatement>& statements_;
  const ToolHistory& history_;
  const ApplyOptions& options_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

namespace {

// After a file that failed, what its tool records of that (Prisma's logs, Flyway's failed row), in a
// transaction of pginit's own; best effort: the failure itself is what the caller reports.
Task<void> record_failure(PgConn& conn, const ToolHistory& history, const MigrationFile& file, const std::string& why) {
  const std::string failure = history.failure_sql(file, why);
  if (failure.empty() || !conn.connected()) co_return;
  const std::string sql = bookkeeping_transaction(failure, conn.server_version(), Duration{0});
  if (QueryResult recorded = co_await conn.query(sql); !recorded.ok())
    log::warn("could not record the failure in the history table", {{"reason", recorded.failure->message}});
}

}  // namespace

Task<ApplyResult> apply_migration(PgConn& conn, const MigrationFile& file, const std::vector<SqlStatement>& statements,
                                  const ToolHistory& history, const ApplyOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  log::info(fmt::format("applying migration {}", file.filename), {{"version", file.version},
                                                                  {"statements", statements.size()},
                                                                  {"transaction", file.no_transaction ? "no" : "yes"}});
  std::minstd_rand random(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  FileRun file_run(conn, file, statements, history, options, started);
  for (int retry = 1;; ++retry) {
    Run run = co_await file_run.run();
    if (run.result.status == ApplyStatus::kFailed && !run.lock_timed_out)
      co_await record_failure(conn, history, file, run.result.reason);
    if (!run.lock_timed_out) co_return run.result;
    const std::string blockers = describe_blockers(run.blockers);
    if (retry > options.lock_retries) {
      log::failure(ExitCode::kMigrationFailed,
                   fmt::format("migration {} did not get its lock within {}, {} times: it is held by {}", file.filename,
                               format_duration(options.lock_timeout), retry, blockers),
                   {{"file", file.filename}, {"statement_number", run.result.statement}});
      co_return ApplyResult{ApplyStatus::kFailed};
    }
    const Duration delay = next_delay(retry, Cost::kCostly, options.backoff, unit(random));
    log::warn(fmt::format("migration {} waited {} for a lock held by {}: rolled back, trying again in {} "
                          "(retry {} of {})",
                          file.filename, format_duration(options.lock_timeout), blockers, format_duration(delay), retry,
                          options.lock_retries),
              {{"file", file.filename}, {"statement_number", run.result.statement}, {"retry", retry}});
    for (const Blocker& blocker : run.blockers)
      log::debug("the blocking session's last query", {{"pid", blocker.pid}, {"query", blocker.query}});
    if (!co_await sleep_for(delay)) co_return ApplyResult{ApplyStatus::kStopped};
  }
}

}  // namespace pginit
