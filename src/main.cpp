// pginit: config -> wait -> migrate -> supervise -> exit code.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <map>
#include <string_view>

#include <fmt/format.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include "child.h"
#include "config.h"
#include "files.h"
#include "log.h"
#include "migrations/run/migrate.h"
#include "privileges.h"
#include "signals.h"
#include "startup.h"
#include "stop.h"
#include "supervise.h"
#include "version.h"
#include "wait.h"

namespace pginit {
namespace {

std::optional<std::string> read_environment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// The whole environment, for the migration tools' own settings (FLYWAY_PLACEHOLDERS_*, goose's ENVSUB),
// and the time of day Flyway's ${flyway:timestamp} names (its format: yyyy-MM-dd HH:mm:ss, local time).
FormatOptions tools_options() {
  std::map<std::string, std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    const std::size_t equals = text.find('=');
    if (equals != std::string_view::npos)
      environment.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char timestamp[32];
  std::strftime(timestamp, sizeof timestamp, "%Y-%m-%d %H:%M:%S", &local);
  return format_options_from(environment, timestamp);
}

// --user: root is no longer needed once the configuration and its secrets are read.
std::optional<int> become_user(const std::string& spec) {
  auto identity = resolve_user(spec);
  std::optional<Failure> failure;
  if (!identity)
    failure = identity.failure();
  else
    failure = become(*identity);
  if (failure) return log::failure(failure->code, failure->message);
  log::debug("became the --user", {{"user", spec},
                                   {"uid", static_cast<int>(identity->uid)},
                                   {"gid", static_cast<int>(identity->gid)},
                                   {"home", identity->home}});
  return std::nullopt;
}

// Each phase returns nullopt to go on, or the exit code to end with.
using PhaseResult = std::optional<int>;

using Clock = std::chrono::steady_clock;

// `conn` stays open for the migrate phase when config.wait_session_serves_migrations().
Task<PhaseResult> wait_phase(const Config& config, PgConn& conn, const StopRequest& stop, StartupReport& report) {
  if (config.no_wait) co_return std::nullopt;
  const auto started = Clock::now();
  const bool handed_on = config.wait_session_serves_migrations();
  const WaitRequest request{.params = handed_on ? config.migrations.conn_params : config.conn_params,
                            .target = config.target,
                            .ready_sql = config.ready_sql,
                            .timeout = config.check ? config.connect_timeout : config.timeout,
                            .connect_timeout = config.connect_timeout,
                            .backoff = config.backoff,
                            .single_attempt = config.check};
  WaitOutcome waited = co_await wait_until_ready(conn, request);
  report.wait = since(started);
  if (!handed_on) conn.close();
  if (waited.stopped || stop.requested()) co_return report_stop(stop);
  if (!waited.ready) co_return static_cast<int>(waited.code);
  co_return std::nullopt;
}

// Closes `conn` before the app starts: the app is not to find a slot of the server taken by pginit.
Task<PhaseResult> migrate_phase(const Config& config, PgConn& conn, Supervisor& supervisor, StopRequest& stop,
                                StartupReport& report) {
  if (!config.migrations.enabled()) co_return std::nullopt;
  const auto started = Clock::now();
  const MigrationOutcome migrated = co_await run_migrations(config, conn, supervisor, stop);
  conn.close();
  report.migrations = since(started);
  report.applied = migrated.applied;
  if (migrated.exit_code != 0) co_return migrated.exit_code;
  if (config.migrations.dry_run || config.migrations.status) co_return 0;
  if (stop.requested()) co_return report_stop(stop);
  co_return std::nullopt;
}

Task<int> supervise_phase(const Config& config, Supervisor& supervisor, const sigset_t& original_mask,
                          const StartupReport& report, int subreaper_error) {
  if (config.command.empty()) co_return 0;  // init-container mode
  if (config.supervision.exec) {
    Failure failure = exec_in_place(config.command, original_mask);
    log::error(failure.message);
    co_return static_cast<int>(failure.code);
  }
  // Said when it concerns an app about to start (qemu-user 7.2, for one, lacks the call).
  if (subreaper_error != 0)
    log::warn(fmt::format("cannot become a subreaper ({}): orphans of the app are left to PID 1 to reap",
                          std::strerror(subreaper_error)));
  const int code = co_await supervisor.run(config.command, ChildRole::kApp, &report);
  co_return config.supervision.remap.apply(code);
}

Task<int> run_pipeline(const Config& config, Supervisor& supervisor, const sigset_t& original_mask, StopRequest& stop,
                       StartupReport& report, int subreaper_error) {
  // Errors are values here: cancellation must not turn into an exception inside the loop.
  co_await asio::this_coro::throw_if_cancelled(false);
  PgConn conn(co_await asio::this_coro::executor);
  if (PhaseResult waited = co_await wait_phase(config, conn, stop, report)) co_return *waited;
  if (PhaseResult migrated = co_await migrate_phase(config, conn, supervisor, stop, report)) co_return *migrated;
  co_return co_await supervise_phase(config, supervisor, original_mask, report, subreaper_error);
}

// subreaper_error: errno of PR_SET_CHILD_SUBREAPER (0 when it worked or pginit is PID 1).
int run(int argc, char** argv, const sigset_t& original_mask, Clock::time_point started, int subreaper_error) {
  auto config = parse_config(std::vector<std::string>(argv + 1, argv + argc), read_environment, read_file);
  if (!config) return log::failure(config.failure().code, config.error());
  if (config->migrations.directory) {
    config->migrations.format_options = tools_options();
    config->migrations.format_options.environment.insert(config->migrations.url_parameters.begin(),
                                                         config->migrations.url_parameters.end());
  }
  if (config->show_help) {
    std::fputs(usage_text().c_str(), stdout);
    return 0;
  }
  if (config->show_version) {
    std::puts(version_text().c_str());
    return 0;
  }
  log::setup(config->log_format, config->log_level, config->secrets);
  if (config->user) {
    if (std::optional<int> failed = become_user(*config->user)) return *failed;
  }

  asio::io_context io(1);
  StopRequest stop;
  Supervisor supervisor(io, config->supervision, original_mask, stop);
  SignalSource signals(io, handled_signal_set());
  signals.start([&supervisor](int signo, int) { supervisor.on_signal(signo); });
  supervisor.serve_signals_from(signals);

  int exit_code = static_cast<int>(ExitCode::kSoftware);
  StartupReport report{.started = started};
  asio::co_spawn(io, run_pipeline(*config, supervisor, original_mask, stop, report, subreaper_error),
                 asio::bind_cancellation_slot(stop.cancel.slot(), [&](std::exception_ptr error, int code) {
                   exit_code = code;
                   if (error) {
                     try {
                       std::rethrow_exception(error);
                     } catch (const std::exception& e) {
                       log::error(fmt::format("internal error: {} (exit 70)", e.what()));
                     }
                     exit_code = static_cast<int>(ExitCode::kSoftware);
                   }
                   io.stop();
                 }));
  io.run();
  return exit_code;
}

}  // namespace
}  // namespace pginit

int main(int argc, char** argv) {
  const auto started = std::chrono::steady_clock::now();
  // Block every signal we handle before anything else, so none is lost before the signalfd
  // exists; children get `original_mask` back (tini does the same).
  sigset_t handled = pginit::handled_signal_set();
  sigset_t original_mask;
  sigprocmask(SIG_BLOCK, &handled, &original_mask);
  // Not PID 1: become a subreaper so orphans of the app are still ours to reap (tini -s).
  const int subreaper_error = getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) != 0 ? errno : 0;
  try {
    return pginit::run(argc, argv, original_mask, started, subreaper_error);
  } catch (const std::exception& e) {
    pginit::log::error(fmt::format("internal error: {} (exit 70)", e.what()));
    return static_cast<int>(pginit::ExitCode::kSoftware);
  }
}
