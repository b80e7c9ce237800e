#include "supervise.h"

#include <sys/wait.h>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "child.h"
#include "command_line.h"
#include "exit_code.h"
#include "log.h"
#include "signals.h"

namespace pginit {

Supervisor::Supervisor(asio::io_context& io, const SupervisionSettings& settings, const sigset_t& child_mask,
                       StopRequest& stop)
    : settings_(settings), child_mask_(child_mask), stop_(stop), child_exited_(io), grace_timer_(io) {}

void Supervisor::on_signal(int signo) {
  if (signo == SIGCHLD) {
    reap_children();
    return;
  }
  if (child_ && !child_->wait_status) {
    // A TERM during the migrate command still means "do not start the app" once it exits.
    if (child_->role == ChildRole::kMigration && stops_startup(signo) && !stop_.requested()) stop_.signo = signo;
    forward(signo);
    return;
  }
  if (stops_startup(signo)) {
    log::info(fmt::format("received SIG{}: stopping before the app starts", signal_name(signo)));
    stop_.request(signo);
    return;
  }
  log::debug("ignored a signal: no child is running", {{"signal", signal_name(signo)}});
}

void Supervisor::reap_children() {
  // Orphans re-parented to pginit (PID 1 or subreaper) are reaped here too; only the main
  // child's status is kept. waitpid(-1, WNOHANG) until nothing is left: signals coalesce.
  while (true) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;  // 0: children left but none exited; -1/ECHILD: no children at all
    if (child_ && pid == child_->pid && !child_->wait_status) {
      child_->wait_status = status;
      child_exited_.cancel();
    } else if (log::enabled(LogLevel::kDebug)) {
      log::debug("reaped an orphan", {{"pid", pid}, {"exit_code", exit_code_for_wait_status(status)}});
    }
  }
}

void Supervisor::forward(int signo) {
  if (!is_forwarded(signo)) return;
  const int sent = settings_.rewrite.translate(signo);
  // Forwarding allocates nothing unless debug logging is on: a signal storm costs no memory.
  const bool debug = log::enabled(LogLevel::kDebug);
  if (sent == 0) {
    if (debug) log::debug("dropped a signal (--signal-rewrite)", {{"signal", signal_name(signo)}});
    return;
  }
  const pid_t target = settings_.group ? -child_->pid : child_->pid;
  if (kill(target, sent) != 0 && errno != ESRCH) {
    log::warn("could not forward a signal", {{"signal", signal_name(sent)}, {"error", std::strerror(errno)}});
  }
  if (debug) {
    log::debug("forwarded a signal", {{"signal", signal_name(signo)}, {"sent", signal_name(sent)}, {"pid", target}});
  }
  if (is_terminating(signo) || is_terminating(sent)) start_grace_countdown(sent);
}

void Supervisor::start_grace_countdown(int sent_signo) {
  if (!settings_.grace || grace_started_) return;
  grace_started_ = true;
  grace_timer_.expires_after(*settings_.grace);
  grace_timer_.async_wait([this, sent_signo](const asio::error_code& error) {
    if (error || !child_ || child_->wait_status) return;
    log::warn(fmt::format("the command did not exit within {} of SIG{}: sending SIGKILL",
                          format_duration(*settings_.grace), signal_name(sent_signo)),
              {{"pid", child_->pid}});
    kill(settings_.group ? -child_->pid : child_->pid, SIGKILL);
  });
}

Task<int> Supervisor::run(const std::vector<std::string>& argv, ChildRole role, const StartupReport* report) {
  const bool take_terminal = owns_terminal_foreground();
  // The migrate command runs under pginit's migration lock, which ends with pginit: should pginit
  // be killed, the command must not run on beside the next lock holder's.
  auto spawned = spawn_child(argv, child_mask_, take_terminal, role == ChildRole::kMigration);
  if (!spawned) co_return log::failure(spawned.failure().code, spawned.error());
  child_ = RunningChild{*spawned, role, take_terminal, std::nullopt};
  grace_started_ = false;
  if (report != nullptr) {
    const Duration total = since(report->started);
    log::info(describe_startup(*report, total), {{"pid", child_->pid},
                                                 {"command", join_command_line(argv)},
                                                 {"elapsed_ms", total.count()},
                                                 {"wait_ms", report->wait.value_or(Duration{0}).count()},
                                                 {"migrations_ms", report->migrations.value_or(Duration{0}).count()},
                                                 {"applied", report->applied}});
  } else {
    log::info(role == ChildRole::kApp ? "started the app" : "started the migrate command",
              {{"pid", child_->pid}, {"command", join_command_line(argv)}});
  }

  child_exited_.expires_at(asio::steady_timer::time_point::max());
  // Once the app runs, pginit has nothing else to do: a signal then costs one blocking read and
  // one kill, as under dumb-init, instead of a trip through the reactor. With --grace a timer may
  // be needed, and the migrate command runs while a stop request must reach the phases: both stay
  // on the io_context.
  if (role == ChildRole::kApp && !settings_.grace && signals_ != nullptr)
    signals_->serve_blocking([this] { return child_->wait_status.has_value(); });
  while (!child_->wait_status) {
    // Woken by reap_children() cancelling the timer; a stop request also aborts the wait, but the
    // child is what we wait for (the request was forwarded to it).
    co_await child_exited_.async_wait(kAsValues);
  }
  grace_timer_.cancel();
  if (child_->took_terminal) reclaim_terminal_foreground();
  const int status = *child_->wait_status;
  const int code = exit_code_for_wait_status(status);
  child_.reset();
  if (WIFSIGNALED(status)) {
    log::info(fmt::format("the {} was killed by SIG{}", role == ChildRole::kApp ? "app" : "migrate command",
                          signal_name(WTERMSIG(status))),
              {{"exit_code", code}});
  } else {
    log::info(fmt::format("the {} exited", role == ChildRole::kApp ? "app" : "migrate command"), {{"exit_code", code}});
  }
  co_return code;
}

}  // namespace pginit
