#include "migrations/migrate.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>

#include <fmt/format.h>

#include "command_line.h"
#include "log.h"
#include "migrations/fingerprint.h"
#include "migrations/history.h"
#include "migrations/lease.h"
#include "migrations/lock.h"
#include "migrations/plan.h"
#include "migrations/pooled_lock.h"
#include "migrations/preflight.h"
#include "migrations/runner.h"
#include "migrations/sha256.h"
#include "migrations/status_report.h"
#include "wait.h"

namespace pginit {
namespace {

constexpr int kMigrationFailed = static_cast<int>(ExitCode::kMigrationFailed);
// Not exit codes: the connection went away, and the phase starts over; or the lock was had, but
// another replica's lease says its migrations still run, so the phase starts over after a while.
constexpr int kConnectionLost = -1;
constexpr int kLeaseBusy = -2;
// Not an exit code either: the lock was busy and the server nearly full; the waiter left its slot.
constexpr int kYielded = -3;
// A file that loses the connection this often in a row probably brings the server down itself.
constexpr int kMaxLossesPerFile = 3;
// A server that keeps going away: give up after this many fresh starts (exit 69).
constexpr int kMaxRestarts = 10;
// Through a pooler, the migrations need a second server connection while the lock holds one.
constexpr int kSilentProbesForAFullPool = 3;
constexpr Duration kLeaseReportInterval{5000};
using Clock = std::chrono::steady_clock;

struct History {
  std::vector<AppliedMigration> rows;
  std::optional<PgFailure> failure;
};

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

// The stored fingerprint of `command`; nullopt when there is none, or when reading it failed
// (`failure` then says why).
Task<std::optional<std::string>> stored_fingerprint(PgConn& conn, const HistoryTable& table, const std::string& command,
                                                    std::optional<PgFailure>& failure) {
  const QueryParams params{command};
  const std::string select = table.select_fingerprint_sql();
  QueryResult result = co_await conn.query(select, params);
  if (!result.ok()) failure = result.failure;
  if (!result.ok() || result.rows.empty()) co_return std::nullopt;
  co_return result.rows[0][0];
}

class MigrationRun {
 public:
  MigrationRun(const Config& config, PgConn& conn, Supervisor& supervisor, StopRequest& stop,
               asio::any_io_executor executor)
      : config_(config),
        settings_(config.migrations),
        supervisor_(supervisor),
        stop_(stop),
        conn_(conn),
        pooled_lock_(executor),
        lease_(executor, lease_holder_name()),
        table_(HistoryTable::from(settings_.table)),
        command_text_(join_command_line(settings_.command)) {}

  Task<MigrationOutcome> run() {
    if (settings_.directory) {
      auto loaded = load_migration_files(*settings_.directory);
      if (!loaded) co_return MigrationOutcome{log::failure(loaded.failure().code, loaded.error())};
      files_ = std::move(*loaded);
    }
    if (!settings_.fingerprint_globs.empty() && !settings_.force) {
      auto computed = compute_fingerprint(settings_.fingerprint_globs);
      if (!computed) co_return MigrationOutcome{log::failure(computed.failure().code, computed.error())};
      fingerprint_ = *computed;
    }
    const auto started = Clock::now();
    for (int restarts = 0, waits = 0;;) {
      const int code = co_await run_once();
      if (code != kConnectionLost && code != kLeaseBusy && code != kYielded) co_return MigrationOutcome{code, applied_};
      conn_.close();  // and with it a session lock, or the slot a waiter held
      co_await pooled_lock_.abandon();
      if (code == kLeaseBusy || code == kYielded) {
        if (std::optional<int> ended = co_await try_again_later(started, ++waits, code == kYielded))
          co_return MigrationOutcome{*ended, applied_};
        continue;
      }
      if (++restarts >= kMaxRestarts) {
        co_return MigrationOutcome{log::failure(
            ExitCode::kNotReady, fmt::format("lost the connection to {} {} times during migrations, last: {}",
                                             settings_.target, kMaxRestarts, lost_reason_))};
      }
      log::warn(fmt::format("lost the connection to {} during migrations ({}): waiting for the primary again, then "
                            "starting the migrations over",
                            settings_.target, lost_reason_),
                {{"restart", restarts}});
    }
  }

 private:
  // Another replica's lease said its work still runs, or the lock was busy and the server nearly
  // full: try again after a while (spread over a doubling window when the server is full), within
  // --migrate-timeout (counted from `started`). The exit code to end with, or nullopt to try again.
  Task<std::optional<int>> try_again_later(Clock::time_point started, int waits, bool server_full) {
    if (settings_.timeout.count() > 0 && since(started) >= settings_.timeout) {
      co_return log::failure(ExitCode::kNotReady,
                             server_full ? fmt::format("could not take the migration lock (key {}) within {}",
                                                       lock_key_, format_duration(settings_.timeout))
                                         : fmt::format("the migrations of {} still ran after {}", lease_holder_,
                                                       format_duration(settings_.timeout)));
    }
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const Cost cost = server_full ? Cost::kFull : Cost::kPolling;
    if (!co_await sleep_for(next_delay(waits, cost, config_.backoff, unit(random_)))) co_return report_stop(stop_);
    co_return std::nullopt;
  }

  // Connect, read, lock, migrate, release: the whole phase, from the top. kConnectionLost when
  // the connection went away on the way; the caller then starts over.
  Task<int> run_once() {
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
    if (int code = co_await set_up_session(); code != 0) co_return code;

    History history = co_await read_history(conn_, table_);
    if (history.failure) co_return failed(*history.failure, fmt::format("cannot read {}", table_.quoted()));
    MigrationPlan plan = plan_migrations(files_, history.rows);
    if (settings_.dry_run) {
      print_dry_run(plan);
      co_return 0;
    }
    if (settings_.status) {
      print_status(plan, files_);
      co_return 0;
    }
    std::optional<PgFailure> fingerprint_failure;
    if (co_await nothing_to_do(plan, fingerprint_failure)) co_return 0;
    if (fingerprint_failure && fingerprint_failure->connection_lost)
      co_return failed(*fingerprint_failure, "cannot read the fingerprint");

    if (int code = co_await lock(); code != 0) {
      co_await pooled_lock_.abandon();
      co_return code;
    }
    int code = co_await migrate_under_lock();
    co_await lease_.end(conn_);
    if (stop_.requested()) {
      co_await pooled_lock_.abandon();
      co_return report_stop(stop_);  // the connection closes: lock released
    }
    if (!conn_.pooled()) {
      if (code == 0) co_await release_migration_lock(conn_, lock_key_);
    } else if (code == 0) {
      co_await pooled_lock_.release();
    } else {
      co_await pooled_lock_.abandon();
    }
    co_return code;
  }

  // Direct, or through a pooler: PgBouncer answers the login with a key of its own where the
  // server sends its process id, so pg_backend_pid() differs from what libpq was told. A pooler
  // decides how the lock is held and what the session may keep.
  Task<int> set_up_session() {
    QueryResult server_pid = co_await conn_.query("SELECT pg_backend_pid()");
    if (!server_pid.ok()) co_return failed(*server_pid.failure, "cannot set up the migration session");
    const bool pooled = server_pid.rows.at(0).at(0) != std::to_string(conn_.backend_pid());
    if (!pooled) {
      if (QueryResult set = co_await conn_.query(kMigrationSessionSql); !set.ok())
        co_return failed(*set.failure, "cannot set up the migration session");
      co_return 0;
    }
    conn_.mark_pooled();
    if (!told_of_pooler_) {
      told_of_pooler_ = true;
      log::info(
          fmt::format("the migrations go through a connection pooler at {}: the migration lock is held in a "
                      "transaction of its own, waiting replicas poll for it, and session settings stay inside "
                      "each file's transaction",
                      settings_.target));
    }
    co_return 0;
  }

  // Through a pooler the lock's transaction holds one server connection for as long as the
  // migrations run, and the files need a second one: in a pool of one they would wait for it until
  // the pooler's query_wait_timeout, and then again after every restart.
  // A link that drops packets looks the same for a moment: only the third silence in a row is
  // taken for a pool with no room.
  Task<int> check_second_server_connection() {
    QueryResult probe = co_await conn_.query("SELECT 1", kNoParams, config_.connect_timeout);
    if (probe.ok()) {
      silent_probes_ = 0;
      co_return 0;
    }
    if (!probe.failure->timed_out) co_return failed(*probe.failure, "cannot reach the server through the pooler");
    if (++silent_probes_ < kSilentProbesForAFullPool) {
      lost_reason_ = fmt::format("no answer through the pooler within {}", format_duration(config_.connect_timeout));
      co_return kConnectionLost;
    }
    co_return log::failure(
        ExitCode::kNotReady,
        fmt::format("the pooler at {} gave the migrations no second server connection within {} while the "
                    "migration lock's transaction holds one: let the pool give pginit two (PgBouncer's "
                    "default_pool_size 2 or more, 3 with a --migrate-cmd through the same pool), or connect "
                    "the migrations directly with --migrate-dsn",
                    settings_.target, format_duration(config_.connect_timeout)));
  }

  // The lock's connection went away (a pooler restart, a terminated backend): so did the lock.
  int lost_the_lock() {
    lost_reason_ = "the connection that held the migration lock was lost";
    return kConnectionLost;
  }

  // A failed query: a stop request, a lost connection (start over), or an error (65).
  int failed(const PgFailure& failure, const std::string& what) {
    if (failure.stopped) return report_stop(stop_);
    if (failure.connection_lost) {
      lost_reason_ = failure.message;
      return kConnectionLost;
    }
    return log::failure(ExitCode::kMigrationFailed, fmt::format("{}: {}", what, failure.message));
  }

  // The fast path, without the lock: no file pending or changed, and the command's fingerprint
  // unchanged. Replicas 2..N of a rollout start their app here.
  Task<bool> nothing_to_do(const MigrationPlan& plan, std::optional<PgFailure>& failure) {
    if (!plan.pending.empty() || (!plan.changed.empty() && !settings_.allow_changed)) co_return false;
    if (!settings_.command.empty()) {
      if (!fingerprint_) co_return false;
      const std::optional<std::string> stored = co_await stored_fingerprint(conn_, table_, command_text_, failure);
      if (stored != fingerprint_) co_return false;
      log::info("skipped the migrate command: its fingerprint is unchanged since it last succeeded",
                {{"fingerprint", short_checksum(*fingerprint_)}, {"command", command_text_}});
    }
    log::info("migrations are up to date", {{"files", files_.size()}});
    co_return true;
  }

  Task<int> lock() {
    if (settings_.lock_key) {
      lock_key_ = *settings_.lock_key;
    } else {
      QueryResult database = co_await conn_.query("SELECT current_database()");
      if (!database.ok()) co_return failed(*database.failure, "cannot read the database name");
      lock_key_ = default_lock_key(database.rows.at(0).at(0).value_or(""), settings_.table);
    }
    // Not a conditional expression: GCC 12 destroys a co_await's result twice in one.
    LockOutcome locked;
    if (conn_.pooled())
      locked = co_await pooled_lock_.acquire(settings_.conn_params, config_.connect_timeout, lock_key_,
                                             settings_.timeout, config_.backoff, conn_);
    else
      locked = co_await acquire_migration_lock(conn_, lock_key_, settings_.timeout, config_.backoff,
                                               settings_.spare_connections);
    switch (locked.status) {
      case LockStatus::kHeld:
        if (!conn_.pooled()) co_return 0;
        co_return co_await check_second_server_connection();
      case LockStatus::kStopped:
        co_return report_stop(stop_);
      case LockStatus::kTimedOut:
        co_return log::failure(ExitCode::kNotReady, fmt::format("could not take the migration lock (key {}) within {}",
                                                                lock_key_, format_duration(settings_.timeout)));
      case LockStatus::kYielded:
        co_return kYielded;
      case LockStatus::kFailed:
        break;
    }
    co_return failed(*locked.failure, "could not take the migration lock");
  }

  Task<int> migrate_under_lock() {
    const std::string create = table_.create_sql();
    QueryResult created = co_await conn_.query(create);
    if (!created.ok()) co_return failed(*created.failure, fmt::format("cannot create {}", table_.quoted()));
    // Work that can outlive this session, a no-transaction statement or the migrate command, takes
    // the lease; transactional files only look that nobody else's work still runs.
    const bool outlives_session =
        !settings_.command.empty() ||
        std::any_of(files_.begin(), files_.end(), [](const MigrationFile& file) { return file.no_transaction; });
    LeaseClaim lease =
        co_await lease_.claim(conn_, table_, settings_.conn_params, config_.connect_timeout, outlives_session);
    if (lease.failure) co_return failed(*lease.failure, "cannot claim the migration lease");
    if (!lease.claimed) {
      lease_holder_ = lease.holder;
      if (Clock::now() - last_lease_report_ >= kLeaseReportInterval) {
        last_lease_report_ = Clock::now();
        log::info(
            fmt::format("holding the migration lock, but the migrations of {} still run (their session was "
                        "lost, their lease renewed {}s ago): waiting for them",
                        lease.holder, lease.renewed_ago));
      }
      co_return kLeaseBusy;
    }
    // Read again under the lock: the replica we waited for has applied what we saw pending.
    History history = co_await read_history(conn_, table_);
    if (history.failure) co_return failed(*history.failure, fmt::format("cannot read {}", table_.quoted()));
    MigrationPlan plan = plan_migrations(files_, history.rows);
    if (int code = check_plan(plan, settings_); code != 0) co_return code;
    auto statements = split_pending(plan);
    if (!statements) co_return log::failure(statements.failure().code, statements.error());
    if (conn_.pooled()) {
      if (int code = check_pooler_safety(plan, *statements); code != 0) co_return code;
    }
    for (std::size_t index = 0; index < plan.pending.size(); ++index) {
      if (conn_.pooled() && !pooled_lock_.still_held()) co_return lost_the_lock();
      if (int code = co_await apply(*plan.pending[index], (*statements)[index]); code != 0) co_return code;
    }
    if (settings_.directory && plan.pending.empty()) {
      log::info("no pending migration files", {{"files", files_.size()}});
    }
    if (settings_.command.empty()) co_return 0;
    if (conn_.pooled() && !pooled_lock_.still_held()) co_return lost_the_lock();
    co_return co_await run_migrate_command();
  }

  Task<int> apply(const MigrationFile& file, const std::vector<SqlStatement>& statements) {
    ApplyOptions options{.lock_timeout = settings_.ddl_lock_timeout,
                         .lock_retries = settings_.ddl_lock_retries,
                         .backoff = config_.backoff};
    if (file.no_transaction && interrupted_.version == file.version) options.interrupted_at = interrupted_.statement;
    ApplyResult result = co_await apply_migration(conn_, file, statements, table_, options);
    switch (result.status) {
      case ApplyStatus::kApplied:
        ++applied_;
        interrupted_ = {};
        co_return 0;
      case ApplyStatus::kStopped:
        co_return 0;  // run_once reports the stop
      case ApplyStatus::kFailed:
        co_return kMigrationFailed;
      case ApplyStatus::kConnectionLost:
        break;
    }
    lost_reason_ = result.reason;
    interrupted_.losses = interrupted_.version == file.version ? interrupted_.losses + 1 : 1;
    interrupted_.version = file.version;
    interrupted_.statement = result.statement;
    if (interrupted_.losses >= kMaxLossesPerFile) {
      co_return log::failure(
          ExitCode::kMigrationFailed,
          fmt::format("migration {} lost the connection {} times in a row (last at statement {}: {}); it "
                      "may be what brings the server down",
                      file.filename, interrupted_.losses, result.statement, result.reason));
    }
    if (file.no_transaction && result.statement > 0) {
      log::warn(fmt::format("migration {} is a no-transaction file and was interrupted at statement {}: the "
                            "statements before it stay applied, and the file runs again from its start",
                            file.filename, result.statement),
                {{"file", file.filename}, {"statement_number", result.statement}});
    }
    co_return kConnectionLost;
  }

  Task<int> run_migrate_command() {
    std::optional<PgFailure> failure;
    std::optional<std::string> stored;
    if (fingerprint_) stored = co_await stored_fingerprint(conn_, table_, command_text_, failure);
    if (failure && failure->connection_lost) co_return failed(*failure, "cannot read the fingerprint");
    if (fingerprint_ && stored == fingerprint_) {
      log::info("skipped the migrate command: another replica ran it for this fingerprint",
                {{"fingerprint", short_checksum(*fingerprint_)}, {"command", command_text_}});
      co_return 0;
    }
    // The command owns its connection: a failure of it is the command's exit code (65), not a
    // lost connection of ours.
    const int code = co_await supervisor_.run(settings_.command, ChildRole::kMigration);
    if (stop_.requested()) co_return 0;
    if (code != 0) {
      co_return log::failure(ExitCode::kMigrationFailed,
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

  // The no-transaction file (if any) whose run lost the connection, and where.
  struct Interruption {
    std::int64_t version = -1;
    std::size_t statement = 0;
    int losses = 0;
  };

  const Config& config_;
  const MigrationSettings& settings_;
  Supervisor& supervisor_;
  StopRequest& stop_;
  PgConn& conn_;
  PooledMigrationLock pooled_lock_;  ///< the lock, when conn_ goes through a pooler
  MigrationLease lease_;
  std::string lease_holder_;  ///< the other replica whose lease made us wait
  std::chrono::steady_clock::time_point last_lease_report_{};
  std::minstd_rand random_{std::random_device{}()};
  bool told_of_pooler_ = false;
  int silent_probes_ = 0;  ///< check_second_server_connection() timed out this often in a row
  HistoryTable table_;
  std::string command_text_;
  std::vector<MigrationFile> files_;
  std::optional<std::string> fingerprint_;
  std::int64_t lock_key_ = 0;
  int applied_ = 0;
  std::string lost_reason_;
  Interruption interrupted_;
};

}  // namespace

Task<MigrationOutcome> run_migrations(const Config& config, PgConn& conn, Supervisor& supervisor, StopRequest& stop) {
  MigrationRun run(config, conn, supervisor, stop, co_await asio::this_coro::executor);
  co_return co_await run.run();
}

}  // namespace pginit
