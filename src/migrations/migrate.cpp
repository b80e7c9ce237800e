#include "migrations/migrate.h"

#include <charconv>
#include <cstdio>

#include <fmt/format.h>

#include "command_line.h"
#include "files.h"
#include "log.h"
#include "migrations/fingerprint.h"
#include "migrations/history.h"
#include "migrations/lock.h"
#include "migrations/plan.h"
#include "migrations/runner.h"
#include "migrations/sha256.h"
#include "wait.h"

namespace pginit {
namespace {

constexpr int kMigrationFailed = static_cast<int>(ExitCode::kMigrationFailed);

struct History {
  std::vector<AppliedMigration> rows;
  std::optional<PgFailure> failure;
};

int fail(ExitCode code, const std::string& message) {
  log::error(fmt::format("{} (exit {})", message, static_cast<int>(code)));
  return static_cast<int>(code);
}

Result<std::vector<MigrationFile>> load_migration_files(const std::string& directory) {
  auto entries = list_directory(directory);
  if (!entries) return entries.failure();
  auto files = order_migration_files(*entries);
  if (!files) return files.failure();
  for (MigrationFile& file : *files) {
    auto content = read_file(directory + "/" + file.filename);
    if (!content)
      return Failure{ExitCode::kConfig,
                     fmt::format("cannot read migration {}/{}: {}", directory, file.filename, content.error())};
    file.content = std::move(*content);
    file.checksum = sha256_hex(file.content);
    file.no_transaction = wants_no_transaction(file.content);
  }
  return files;
}

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

Task<std::optional<std::string>> stored_fingerprint(PgConn& conn, const HistoryTable& table,
                                                    const std::string& command) {
  const QueryParams params{command};
  const std::string select = table.select_fingerprint_sql();
  QueryResult result = co_await conn.query(select, params);
  if (!result.ok() || result.rows.empty()) co_return std::nullopt;
  co_return result.rows[0][0];
}

std::string short_checksum(const std::string& checksum) {
  return checksum.substr(0, 12);
}

void print_dry_run(const MigrationPlan& plan) {
  if (plan.pending.empty()) std::puts("no pending migrations");
  for (const MigrationFile* file : plan.pending) {
    std::printf("pending  %s%s\n", file->filename.c_str(), file->no_transaction ? "  (no transaction)" : "");
  }
  std::fflush(stdout);
}

void print_status(const MigrationPlan& plan, const std::vector<MigrationFile>& files) {
  std::printf("%-8s  %-20s  %s\n", "STATUS", "VERSION", "FILE");
  for (const MigrationFile& file : files) {
    std::string status = "applied";
    std::string note;
    for (const auto* pending : plan.pending) {
      if (pending == &file) status = "pending";
    }
    for (const auto& changed : plan.changed) {
      if (changed.file == &file) {
        status = "changed";
        note = fmt::format("  (applied {}, file now {})", short_checksum(changed.applied_checksum),
                           short_checksum(file.checksum));
      }
    }
    std::printf("%-8s  %-20lld  %s%s\n", status.c_str(), static_cast<long long>(file.version), file.filename.c_str(),
                note.c_str());
  }
  for (const AppliedMigration& missing : plan.missing) {
    std::printf("%-8s  %-20lld  %s  (applied, no file)\n", "missing", static_cast<long long>(missing.version),
                missing.name.c_str());
  }
  std::fflush(stdout);
}

// Checks the plan against --allow-changed / --strict-order; 0 or the exit code.
int check_plan(const MigrationPlan& plan, const MigrationSettings& settings) {
  for (const auto& changed : plan.changed) {
    if (settings.allow_changed) {
      log::warn(fmt::format("migration {} changed since it was applied; applying nothing for it (--allow-changed)",
                            changed.file->filename),
                {{"applied_checksum", changed.applied_checksum}, {"file_checksum", changed.file->checksum}});
      continue;
    }
    return fail(ExitCode::kMigrationFailed,
                fmt::format("migration {} changed after it was applied: checksum {} in the history table, {} on disk; "
                            "restore the file, or pass --allow-changed",
                            changed.file->filename, changed.applied_checksum, changed.file->checksum));
  }
  for (const MigrationFile* file : plan.out_of_order) {
    if (settings.strict_order) {
      return fail(ExitCode::kMigrationFailed,
                  fmt::format("migration {} is older than the newest applied one (--strict-order)", file->filename));
    }
    log::warn(fmt::format("applying migration {} out of order: a newer one is already applied", file->filename));
  }
  for (const AppliedMigration& missing : plan.missing) {
    log::warn(
        fmt::format("migration {}_{} is in the history table but its file is gone", missing.version, missing.name));
  }
  return 0;
}

class MigrationRun {
 public:
  MigrationRun(const Config& config, Supervisor& supervisor, StopRequest& stop, asio::any_io_executor executor)
      : config_(config),
        settings_(config.migrations),
        supervisor_(supervisor),
        stop_(stop),
        conn_(executor),
        table_(HistoryTable::from(settings_.table)),
        command_text_(join_command_line(settings_.command)) {}

  Task<int> run() {
    if (settings_.directory) {
      auto loaded = load_migration_files(*settings_.directory);
      if (!loaded) co_return fail(loaded.failure().code, loaded.error());
      files_ = std::move(*loaded);
    }
    if (!settings_.fingerprint_globs.empty() && !settings_.force) {
      auto computed = compute_fingerprint(settings_.fingerprint_globs);
      if (!computed) co_return fail(computed.failure().code, computed.error());
      fingerprint_ = *computed;
    }

    const WaitRequest primary{.params = settings_.conn_params,
                              .target = settings_.target,
                              .ready_sql = "SELECT NOT pg_is_in_recovery()",
                              .not_ready_reason = "the server is in recovery (a standby): migrations need the primary",
                              // A failover may take a while: --migrate-timeout when given, else --timeout.
                              .timeout = settings_.timeout.count() > 0 ? settings_.timeout : config_.timeout,
                              .connect_timeout = config_.connect_timeout,
                              .backoff = config_.backoff,
                              .purpose = "the primary (for migrations)",
                              .announce = false};
    WaitOutcome connected = co_await wait_until_ready(conn_, primary);
    if (connected.stopped) co_return report_stop(stop_);
    if (!connected.ready) co_return static_cast<int>(connected.code);
    co_await conn_.query(kMigrationSessionSql);

    History history = co_await read_history(conn_, table_);
    if (int code = check_history(history); code != 0) co_return code;
    MigrationPlan plan = plan_migrations(files_, history.rows);
    if (settings_.dry_run) {
      print_dry_run(plan);
      co_return 0;
    }
    if (settings_.status) {
      print_status(plan, files_);
      co_return 0;
    }
    if (co_await nothing_to_do(plan)) co_return 0;

    if (int code = co_await lock(); code != 0) co_return code;
    int code = co_await migrate_under_lock();
    if (stop_.requested()) co_return report_stop(stop_);  // the connection closes: lock released
    if (code == 0) co_await release_migration_lock(conn_, lock_key_);
    co_return code;
  }

 private:
  int check_history(const History& history) {
    if (!history.failure) return 0;
    if (history.failure->stopped) return report_stop(stop_);
    return fail(ExitCode::kMigrationFailed,
                fmt::format("cannot read {}: {}", table_.quoted(), history.failure->message));
  }

  // The fast path, without the lock: no file pending or changed, and the command's fingerprint
  // unchanged. Replicas 2..N of a rollout start their app here.
  Task<bool> nothing_to_do(const MigrationPlan& plan) {
    if (!plan.pending.empty() || (!plan.changed.empty() && !settings_.allow_changed)) co_return false;
    if (!settings_.command.empty()) {
      if (!fingerprint_) co_return false;
      const std::optional<std::string> stored = co_await stored_fingerprint(conn_, table_, command_text_);
      if (stored != fingerprint_) co_return false;
      log::info("skipped the migrate command: its fingerprint is unchanged since it last succeeded",
                {{"fingerprint", short_checksum(*fingerprint_)}, {"command", command_text_}});
    }
    log::info("migrations are up to date", {{"files", std::to_string(files_.size())}});
    co_return true;
  }

  Task<int> lock() {
    if (settings_.lock_key) {
      lock_key_ = *settings_.lock_key;
    } else {
      QueryResult database = co_await conn_.query("SELECT current_database()");
      if (!database.ok()) {
        if (database.failure->stopped) co_return report_stop(stop_);
        co_return fail(ExitCode::kMigrationFailed,
                       fmt::format("cannot read the database name: {}", database.failure->message));
      }
      lock_key_ = default_lock_key(database.rows.at(0).at(0).value_or(""), settings_.table);
    }
    LockOutcome locked = co_await acquire_migration_lock(conn_, lock_key_, settings_.timeout, config_.backoff);
    switch (locked.status) {
      case LockStatus::kHeld:
        co_return 0;
      case LockStatus::kStopped:
        co_return report_stop(stop_);
      case LockStatus::kTimedOut:
        co_return fail(ExitCode::kNotReady, fmt::format("could not take the migration lock (key {}) within {}",
                                                        lock_key_, format_duration(settings_.timeout)));
      case LockStatus::kFailed:
        break;
    }
    co_return fail(ExitCode::kMigrationFailed, fmt::format("could not take the migration lock: {}", locked.error));
  }

  Task<int> migrate_under_lock() {
    const std::string create = table_.create_sql();
    QueryResult created = co_await conn_.query(create);
    if (!created.ok()) {
      if (created.failure->stopped) co_return 0;
      co_return fail(ExitCode::kMigrationFailed,
                     fmt::format("cannot create {}: {}", table_.quoted(), created.failure->message));
    }
    // Read again under the lock: the replica we waited for has applied what we saw pending.
    History history = co_await read_history(conn_, table_);
    if (int code = check_history(history); code != 0) co_return code;
    MigrationPlan plan = plan_migrations(files_, history.rows);
    if (int code = check_plan(plan, settings_); code != 0) co_return code;
    // Every pending file is checked before the first is sent: psql-only syntax stops them all.
    std::vector<std::vector<SqlStatement>> statements;
    for (const MigrationFile* file : plan.pending) {
      auto split = split_migration(*file);
      if (!split) co_return fail(split.failure().code, split.error());
      for (int line : split->skipped_lines)
        log::debug("left out a psql-only line", {{"file", file->filename}, {"line", std::to_string(line)}});
      statements.push_back(std::move(split->statements));
    }
    for (std::size_t index = 0; index < plan.pending.size(); ++index) {
      const MigrationFile* file = plan.pending[index];
      ApplyStatus status = co_await apply_migration(conn_, *file, statements[index], table_);
      if (status == ApplyStatus::kStopped) co_return 0;
      if (status == ApplyStatus::kFailed) co_return kMigrationFailed;
    }
    if (settings_.directory && plan.pending.empty()) {
      log::info("no pending migration files", {{"files", std::to_string(files_.size())}});
    }
    if (!settings_.command.empty()) co_return co_await run_migrate_command();
    co_return 0;
  }

  Task<int> run_migrate_command() {
    std::optional<std::string> stored;
    if (fingerprint_) stored = co_await stored_fingerprint(conn_, table_, command_text_);
    if (fingerprint_ && stored == fingerprint_) {
      log::info("skipped the migrate command: another replica ran it for this fingerprint",
                {{"fingerprint", short_checksum(*fingerprint_)}, {"command", command_text_}});
      co_return 0;
    }
    const int code = co_await supervisor_.run(settings_.command, ChildRole::kMigration);
    if (stop_.requested()) co_return 0;
    if (code != 0) {
      co_return fail(ExitCode::kMigrationFailed,
                     fmt::format("the migrate command failed with exit code {}: {}", code, command_text_));
    }
    if (fingerprint_) {
      const QueryParams params{command_text_, *fingerprint_};
      const std::string upsert = table_.upsert_fingerprint_sql();
      QueryResult saved = co_await conn_.query(upsert, params);
      if (!saved.ok())
        log::warn("could not store the migrate command's fingerprint", {{"reason", saved.failure->message}});
    }
    co_return 0;
  }

  const Config& config_;
  const MigrationSettings& settings_;
  Supervisor& supervisor_;
  StopRequest& stop_;
  PgConn conn_;
  HistoryTable table_;
  std::string command_text_;
  std::vector<MigrationFile> files_;
  std::optional<std::string> fingerprint_;
  std::int64_t lock_key_ = 0;
};

}  // namespace

Task<int> run_migrations(const Config& config, Supervisor& supervisor, StopRequest& stop) {
  MigrationRun run(config, supervisor, stop, co_await asio::this_coro::executor);
  co_return co_await run.run();
}

}  // namespace pginit
