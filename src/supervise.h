#pragma once
// pginit as PID 1: spawn, forward, reap, grace, exit code.
#include <optional>
#include <string>
#include <vector>

#include <signal.h>
#include <sys/types.h>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "async.h"
#include "config.h"
#include "signals.h"
#include "startup.h"
#include "stop.h"

namespace pginit {

/// Which command is running: the migrate command ends the start-up when stopped, the app does not.
enum class ChildRole { kMigration, kApp };

class Supervisor {
 public:
  /// `child_mask`: the signal mask pginit started with, restored in every child.
  Supervisor(asio::io_context& io, const SupervisionSettings& settings, const sigset_t& child_mask, StopRequest& stop);

  /// Every signal pginit receives comes here (from the signalfd). SIGCHLD reaps every exited
  /// child; with a child running, anything forwardable goes to it (rewritten; to its group with
  /// --group) and TERM/INT/QUIT start the --grace countdown; with none, TERM/INT/QUIT/HUP stop the
  /// start-up phases. Everything else is ignored.
  void on_signal(int signo);

  /// Runs `argv` as a child and waits, without polling, until it exits. Returns its exit code,
  /// 128+N if signal N killed it, or 126/127 if it could not be started. With `report`, the
  /// start is logged as the one summary line of the start-up ("started the app after 1.4s (…)").
  Task<int> run(const std::vector<std::string>& argv, ChildRole role, const StartupReport* report = nullptr);

  /// The source of on_signal(): while the app runs and no --grace timer can be needed, run() reads
  /// its signals directly (SignalSource::serve_blocking) instead of through the io_context.
  void serve_signals_from(SignalSource& signals) { signals_ = &signals; }

 private:
  struct RunningChild {
    pid_t pid;
    ChildRole role;
    bool took_terminal;
    std::optional<int> wait_status;
  };

  void reap_children();
  void forward(int signo);
  void start_grace_countdown(int sent_signo);

  const SupervisionSettings& settings_;
  const sigset_t child_mask_;
  StopRequest& stop_;
  std::optional<RunningChild> child_;
  asio::steady_timer child_exited_;  // never expires: cancelled to wake run() when the child is reaped
  asio::steady_timer grace_timer_;
  bool grace_started_ = false;
  SignalSource* signals_ = nullptr;
};

}  // namespace pginit
