#include "migrations/run/migrate.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>

#include <fmt/format.h>

#include "command_line.h"
#include "log.h"
#include "migrations/formats/plan.h"
#include "migrations/formats/sha256.h"
#include "migrations/history/history.h"
#include "migrations/history/history_queries.h"
#include "migrations/history/tool_history.h"
#include "migrations/run/bookkeeping.h"
#include "migrations/run/fingerprint.h"
#include "migrations/run/lease.h"
#include "migrations/run/lock.h"
#include "migrations/run/preflight.h"
#include "migrations/run/runner.h"
#include "migrations/run/session.h"
#include "migrations/run/status_report.h"
#include "wait.h"

namespace pginit {
namespace {

constexpr int kMigrationFailed = static_cast<int>(ExitCode::kMigrationFailed);
// Not exit codes. kConnectionLost: the connection went away, and the phase starts over.
// kLeaseBusy: directly, the lock was had, but another replica's lease says its work still runs:
// wait, connected, and look again. kComeBackLater: the connection is closed, and the phase starts
// over after a while: a waiter through a pooler (it keeps no connection between its looks), or one
// that left its slot to a server nearly full.
constexpr int kConnectionLost = -1;
constexpr int kLeaseBusy = -2;
constexpr int kComeBackLater = -3;
// A file that loses the connection this often in a row probably brings the server down itself.
constexpr int kMaxLossesPerFile = 3;
// A server that keeps going away: give up after this many fresh starts (exit 69).
constexpr int kMaxRestarts = 10;
constexpr Duration kWaitReportInterval{5000};
using Clock = std::chrono::steady_clock;

class MigrationRun {
 public:
  MigrationRun(const Config& config, PgConn& conn, Supervisor& supervisor, StopRequest& stop,
               asio::any_io_executor executor)
      : config_(config),
        settings_(config.migrations),
        supervisor_(supervisor),
        stop_(stop),
        conn_(conn),
        lease_(executor, lease_holder_name()),
        table_(HistoryTable::from(settings_.table)),
        command_text_(join_command_line(settings_.command)) {}

  Task<MigrationOutcome> run() {
    if (settings_.directory) {
      auto loaded = load_migrations(settings_);
      if (!loaded) co_return MigrationOutcome{log::failure(loaded.failure().code, loaded.error())};
      format_ = loaded->format;
      files_ = std::move(loaded->files);
      if (format_ != MigrationFormat::kPginit) {
        log::info(fmt::format("the migrations are {}'s: read and applied by its rules, kept in its history table",
                              format_name(format_)),
                  {{"files", files_.size()}});
      }
    }
    if (!settings_.fingerprint_globs.empty() && !settings_.force) {
      auto computed = compute_fingerprint(settings_.fingerprint_globs);
      if (!computed) co_return MigrationOutcome{log::failure(computed.failure().code, computed.error())};
      fingerprint_ = *computed;
    }
    started_ = Clock::now();
    for (int restarts = 0;;) {
      const int code = co_await run_once();
      if (code != kConnectionLost && code != kComeBackLater) co_return MigrationOutcome{code, applied_};
      conn_.close();  // and with it a session lock, or the slot a waiter held
      if (code == kComeBackLater) {
        if (std::optional<int> ended = co_await try_again_later()) co_return MigrationOutcome{*ended, applied_};
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
  // Another replica migrates (or the server is nearly full): try again after a while of
  // `come_back_cost_`, within --migrate-timeout counted from the phase's start. The exit code to end
  // with, or nullopt to try again.
  Task<std::optional<int>> try_again_later() {
    if (settings_.timeout.count() > 0 && since(started_) >= settings_.timeout) {
      co_return log::failure(ExitCode::kNotReady,
                             waited_for_.empty() ? fmt::format("could not take the migration lock (key {}) within {}",
                                                               lock_key_, format_duration(settings_.timeout))
                                                 : fmt::format("the migrations of {} still ran after {}", waited_for_,
                                                               format_duration(settings_.timeout)));
    }
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    if (!co_await sleep_for(next_delay(++waits_, come_back_cost_, config_.backoff, unit(random_))))
      co_return report_stop(stop_);
    co_return std::nullopt;
  }

  // Connect, read, lock, migrate, release: the whole phase, from the top. kConnectionLost when
  // the connection went away on the way, kComeBackLater when another replica migrates and this one
  // is to look again later; the caller then starts over.
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

    if (int code = co_await find_history(); code != 0) co_return code;
    std::optional<HistoryState> history = co_await read_state();
    if (!history) co_return last_code_;
    MigrationPlan plan = plan_migrations(files_, history->applied);
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

    int code = 0;
    while (true) {
      code = co_await lock();
      if (code == 0) code = co_await migrate_under_lock();
      if (code != kLeaseBusy) break;
      // Wait connected, without the lock: the next look costs no login.
      const QueryParams key{std::to_string(lock_key_)};
      if (QueryResult unlocked = co_await conn_.query("SELECT pg_advisory_unlock($1::bigint)", key); !unlocked.ok()) {
        code = failed(*unlocked.failure, "cannot release the migration lock");
        break;
      }
      come_back_cost_ = Cost::kLogin;
      if (std::optional<int> ended = co_await try_again_later()) co_return *ended;
    }
    co_await lease_.end(conn_);
    if (stop_.requested()) co_return report_stop(stop_);  // the connection closes: lock released
    if (code == 0 && !conn_.pooled()) {
      for (std::int64_t key : tool_lock_keys_) {
        const QueryParams params{std::to_string(key)};
        co_await conn_.query("SELECT pg_advisory_unlock($1::bigint)", params);
      }
      co_await release_migration_lock(conn_, lock_key_);
    }
    co_return code;
  }

  Task<int> set_up_session() {
    const std::string session_name = lease_session_name(lease_.holder());
    const SessionSetup setup =
        co_await set_up_migration_session(conn_, settings_.target, session_name, !told_of_pooler_);
    if (setup.failure) co_return failed(*setup.failure, "cannot set up the migration session");
    if (setup.exit_code) co_return *setup.exit_code;
    if (conn_.pooled() && !told_of_pooler_) {
      told_of_pooler_ = true;
      log::info(fmt::format(
          "the migrations go through a connection pooler at {}: the migration lock is a lease that waiting "
          "replicas look at now and then, holding no server connection in between, and session settings stay "
          "inside each file's transaction",
          settings_.target));
    }
    co_return 0;
  }

  // The format's history table: where the user's setup keeps it (without a schema, in the session's
  // current_schema(), asked once).
  Task<int> find_history() {
    if (history_) co_return 0;
    ToolTable table =
        tool_table_for(format_, settings_.history_table, settings_.table, settings_.format_options.environment);
    if (!table.error.empty()) co_return log::failure(ExitCode::kConfig, table.error);
    if (table.schema.empty()) {
      QueryResult schema = co_await conn_.query("SELECT coalesce(current_schema(), 'public')");
      if (!schema.ok()) co_return failed(*schema.failure, "cannot read the current schema");
      table.schema = schema.rows.at(0).at(0).value_or("public");
    }
    history_.emplace(format_, std::move(table));
    co_return 0;
  }

  // What the history says; nullopt when it cannot be read, or the tool itself would refuse to go on
  // (last_code_ then says how the phase ends).
  Task<std::optional<HistoryState>> read_state() {
    HistoryRead read = co_await read_history(conn_, *history_);
    if (read.failure) {
      last_code_ = failed(*read.failure, fmt::format("cannot read {}", history_->quoted()));
      co_return std::nullopt;
    }
    HistoryState state = history_->read(read.rows, files_);
    if (state.refusal) {
      last_code_ = log::failure(ExitCode::kMigrationFailed, fmt::format("{}: {}", history_->quoted(), *state.refusal));
      co_return std::nullopt;
    }
    co_return state;
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

  // Work that can outlive this session: a no-transaction statement or the migrate command.
  bool outlives_session() const {
    return !settings_.command.empty() ||
           std::any_of(files_.begin(), files_.end(), [](const MigrationFile& file) { return file.no_transaction; });
  }

  Task<int> lock() {
    QueryResult database = co_await conn_.query("SELECT current_database()");
    if (!database.ok()) co_return failed(*database.failure, "cannot read the database name");
    const std::string name = database.rows.at(0).at(0).value_or("");
    lock_key_ = settings_.lock_key ? *settings_.lock_key : default_lock_key(name, settings_.table);
    tool_lock_keys_ = history_->lock_keys(name);
    if (conn_.pooled()) co_return co_await take_pooled_lease();
    const LockOutcome locked = co_await acquire_migration_lock(conn_, lock_key_, settings_.timeout, config_.backoff,
                                                               settings_.spare_connections);
    switch (locked.status) {
      case LockStatus::kHeld:
        co_return co_await hold_tool_locks();
      case LockStatus::kStopped:
        co_return report_stop(stop_);
      case LockStatus::kTimedOut:
        co_return log::failure(ExitCode::kNotReady, fmt::format("could not take the migration lock (key {}) within {}",
                                                                lock_key_, format_duration(settings_.timeout)));
      case LockStatus::kYielded:
        come_back_cost_ = Cost::kFull;
        co_return kComeBackLater;
      case LockStatus::kFailed:
        break;
    }
    co_return failed(*locked.failure, "could not take the migration lock");
  }

  // Directly: the format's tool's own lock keys too (golang-migrate's, Flyway's, Prisma's, goose's),
  // so that the tool, run beside pginit, waits for it. When the tool holds one, pginit waits as for
  // another replica's lease: connected, without its own lock, looking again now and then.
  Task<int> hold_tool_locks() {
    for (std::size_t index = 0; index < tool_lock_keys_.size(); ++index) {
      const QueryParams key{std::to_string(tool_lock_keys_[index])};
      QueryResult tried = co_await conn_.query("SELECT pg_try_advisory_lock($1::bigint)", key);
      if (!tried.ok()) co_return failed(*tried.failure, "could not take the migration tool's own lock");
      if (tried.rows.at(0).at(0) == std::optional<std::string>("t")) continue;
      for (std::size_t held = 0; held < index; ++held) {
        const QueryParams release{std::to_string(tool_lock_keys_[held])};
        co_await conn_.query("SELECT pg_advisory_unlock($1::bigint)", release);
      }
      waited_for_ = fmt::format("{}'s own lock (key {}), which another session holds", format_name(format_),
                                tool_lock_keys_[index]);
      if (Clock::now() - last_wait_report_ >= kWaitReportInterval) {
        last_wait_report_ = Clock::now();
        log::info(fmt::format("holding the migration lock, but {}: waiting for it", waited_for_));
      }
      co_return kLeaseBusy;
    }
    co_return 0;
  }

  // Through a pooler the lease is the lock: claimed in a short transaction of its own (and only while
  // no direct replica holds the advisory lock), renewed by a connection opened for each renewal,
  // fenced by every file. A waiter closes its connection and looks again a second or two later.
  Task<int> take_pooled_lease() {
    std::vector<std::int64_t> exclusion{lock_key_};
    exclusion.insert(exclusion.end(), tool_lock_keys_.begin(), tool_lock_keys_.end());
    LeaseClaim claim = co_await lease_.claim(conn_, table_, true, exclusion);
    if (claim.failure && claim.failure->sqlstate == "42P01") {  // the first deploy: no tables yet
      if (int code = co_await create_tables(); code != 0) co_return code;
      claim = co_await lease_.claim(conn_, table_, true, exclusion);
    }
    if (claim.failure) co_return failed(*claim.failure, "could not take the migration lock");
    if (!claim.claimed) {
      report_waiting(claim);
      come_back_cost_ = Cost::kLogin;
      co_return kComeBackLater;
    }
    lease_.start_renewing(settings_.conn_params, config_.connect_timeout, true);
    log::info("acquired the migration lock",
              {{"lock_key", lock_key_}, {"waited_ms", since(started_).count()}, {"lock_kind", "lease"}});
    co_return 0;
  }

  // "waiting for the migration lock, held by …", at most every kWaitReportInterval.
  void report_waiting(const LeaseClaim& claim) {
    waited_for_ = claim.holder;
    if (Clock::now() - last_wait_report_ < kWaitReportInterval) return;
    last_wait_report_ = Clock::now();
    const std::string holder = claim.holder.empty()
                                   ? "a direct replica's session (the advisory lock)"
                                   : fmt::format("{} (its lease renewed {}s ago)", claim.holder, claim.renewed_ago);
    log::info(fmt::format("waiting for the migration lock, held by {}", holder),
              {{"lock_key", lock_key_}, {"elapsed_ms", since(started_).count()}});
  }

  Task<int> create_tables() {
    if (std::optional<PgFailure> failure = co_await create_history_tables(conn_, table_, *history_, lock_key_))
      co_return failed(*failure, fmt::format("cannot create {}", history_->quoted()));
    co_return 0;
  }

  Task<int> migrate_under_lock() {
    if (!conn_.pooled()) {
      if (int code = co_await create_tables(); code != 0) co_return code;
      // Work that can outlive this session takes the lease; transactional files only look that
      // nobody else's work still runs.
      const bool take = outlives_session();
      LeaseClaim lease = co_await lease_.claim(conn_, table_, take);
      if (lease.failure) co_return failed(*lease.failure, "cannot claim the migration lease");
      if (!lease.claimed) {
        if (Clock::now() - last_wait_report_ >= kWaitReportInterval) {
          last_wait_report_ = Clock::now();
          log::info(
              fmt::format("holding the migration lock, but the migrations of {} still run (their session was "
                          "lost, their lease renewed {}s ago): waiting for them",
                          lease.holder, lease.renewed_ago));
        }
        waited_for_ = lease.holder;
        co_return kLeaseBusy;
      }
      if (take) lease_.start_renewing(settings_.conn_params, config_.connect_timeout, false);
    }
    // Read again under the lock: the replica we waited for has applied what we saw pending.
    std::optional<HistoryState> history = co_await read_state();
    if (!history) co_return last_code_;
    MigrationPlan plan = plan_migrations(files_, history->applied);
    if (int code = check_plan(plan, settings_, format_); code != 0) co_return code;
    auto statements = split_pending(plan);
    if (!statements) co_return log::failure(statements.failure().code, statements.error());
    if (conn_.pooled()) {
      if (int code = check_pooler_safety(plan, *statements); code != 0) co_return code;
    }
    for (std::size_t index = 0; index < plan.pending.size(); ++index) {
      // A stop during a file ends the run after it: the next file is never begun (run_once reports the stop).
      if (stop_.requested()) co_return 0;
      if (int code = co_await apply(*plan.pending[index], (*statements)[index]); code != 0) co_return code;
    }
    if (settings_.directory && plan.pending.empty()) {
      log::info("no pending migration files", {{"files", files_.size()}});
    }
    if (settings_.command.empty() || stop_.requested()) co_return 0;
    co_return co_await run_migrate_command();
  }

  Task<int> apply(const MigrationFile& file, const std::vector<SqlStatement>& statements) {
    ApplyOptions options{.lock_timeout = settings_.ddl_lock_timeout,
                         .lock_retries = settings_.ddl_lock_retries,
                         .backoff = config_.backoff,
                         .lease_fence = conn_.pooled() ? lease_.renew_sql() : std::string()};
    if (file.no_transaction && interrupted_.version == file.version) options.interrupted_at = interrupted_.statement;
    ApplyResult result = co_await apply_migration(conn_, file, statements, *history_, options);
    switch (result.status) {
      case ApplyStatus::kApplied:
        ++applied_;
        interrupted_ = {};
        co_return 0;
      case ApplyStatus::kStopped:
        co_return 0;  // run_once reports the stop
      case ApplyStatus::kFailed:
        co_return kMigrationFailed;
      case ApplyStatus::kLeaseLost:
        lost_reason_ = "the migration lease was taken over by another replica";
        co_return kConnectionLost;
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
    // Through a pooler, in session pooling an open connection keeps a server connection that the
    // command may need (a pool of one): it is closed while the command runs, the lease renewed meanwhile.
    if (conn_.pooled()) conn_.close();
    // The command owns its connection: a failure of it is the command's exit code (65), not a
    // lost connection of ours.
    const int code = co_await supervisor_.run(settings_.command, ChildRole::kMigration);
    if (stop_.requested()) co_return 0;
    if (code != 0) {
      co_return log::failure(ExitCode::kMigrationFailed,
                             fmt::format("the migrate command failed with exit code {}: {}", code, command_text_));
    }
    if (!fingerprint_) co_return 0;
    if (!conn_.connected()) {
      if (auto lost = co_await conn_.connect(settings_.conn_params, config_.connect_timeout)) {
        log::warn("could not store the migrate command's fingerprint", {{"reason", lost->message}});
        co_return 0;
      }
      conn_.mark_pooled();
    }
    const std::string upsert = bookkeeping_transaction(table_.upsert_fingerprint_sql(command_text_, *fingerprint_),
                                                       conn_.server_version(), Duration{0});
    QueryResult saved = co_await conn_.query(upsert);
    if (!saved.ok())
      log::warn("could not store the migrate command's fingerprint", {{"reason", saved.failure->message}});
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
  MigrationLease lease_;
  Clock::time_point started_{};
  Clock::time_point last_wait_report_{};
  int waits_ = 0;                       ///< times this phase came back later
  Cost come_back_cost_ = Cost::kLogin;  ///< how soon to come back
  std::string waited_for_;              ///< the other replica whose lease made us wait, if any
  std::minstd_rand random_{std::random_device{}()};
  bool told_of_pooler_ = false;
  HistoryTable table_;  ///< pginit's own: the lease, the fingerprints (and its history)
  MigrationFormat format_ = MigrationFormat::kPginit;
  std::optional<ToolHistory> history_;  ///< the format's history table, found once connected
  std::vector<std::int64_t> tool_lock_keys_;
  int last_code_ = 0;  ///< how the phase ends when read_state() could not say
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
