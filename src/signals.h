#pragma once
// Signal names, the set pginit forwards, the rewrite and exit-remap tables (pure), and the
// signalfd that delivers every signal to the one io_context.
#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <signal.h>
#include <sys/signalfd.h>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include "result.h"

namespace pginit {

/// "TERM", "SIGTERM", "term" or "15" -> 15. Realtime signals as "RTMIN+3". nullopt if unknown.
std::optional<int> parse_signal(std::string_view text);

/// "TERM" for 15; "RTMIN+3" for realtime signals; the number for unknown ones.
std::string signal_name(int signo);

/// Signals pginit never forwards: SIGCHLD (it reaps instead), the synchronous fault signals
/// (SEGV BUS FPE ILL TRAP SYS ABRT, which only the kernel sends about pginit's own faults), and
/// KILL/STOP, which cannot be caught.
bool is_forwarded(int signo);

/// Signals that end the pre-app phases (wait, migrate) while no child runs: TERM INT QUIT HUP.
bool stops_startup(int signo);

/// Signals after which --grace starts counting: TERM INT QUIT.
bool is_terminating(int signo);

/// --signal-rewrite: FROM -> TO, where TO = 0 drops the signal.
class SignalRewrite {
 public:
  /// Parses "TERM:QUIT,INT:0" (names or numbers). Usage error (64) naming the bad pair.
  static Result<SignalRewrite> parse(std::string_view spec);
  /// The signal to send for `signo`: its rewrite, or itself; 0 = drop.
  int translate(int signo) const;

 private:
  std::array<int, 65> table_{};  // 0 = not rewritten; kDropped = rewritten to 0
};

/// --remap-exit: child exit code FROM becomes pginit's exit code TO.
class ExitRemap {
 public:
  /// Parses "143:0,1:2" (0..255 each). Usage error (64) naming the bad pair.
  static Result<ExitRemap> parse(std::string_view spec);
  int apply(int exit_code) const;

 private:
  std::array<int, 256> table_ = identity();
  static std::array<int, 256> identity();
};

/// The signals pginit blocks and reads from its signalfd: every signal but KILL, STOP and the
/// synchronous fault signals (so a real fault in pginit still kills it).
sigset_t handled_signal_set();

/// Delivers the blocked signals through a signalfd on the io_context. Does not block signals
/// itself: main blocks them before anything else runs, so that none is lost.
class SignalSource {
 public:
  SignalSource(asio::io_context& io, const sigset_t& signals);
  ~SignalSource();
  SignalSource(const SignalSource&) = delete;
  SignalSource& operator=(const SignalSource&) = delete;

  /// Calls `on_signal(signo, sender_pid)` for every signal read, until the io_context stops;
  /// except the SIGPIPE that pginit's own write to a closed pipe raises.
  void start(std::function<void(int signo, int sender_pid)> on_signal);

  /// Reads signals with blocking reads, outside the io_context, and hands each to on_signal until
  /// `done()`: one system call to wait and nothing between it and the handler, as dumb-init's
  /// sigwait loop. Only while nothing but signals can need pginit (the app runs, no timer armed).
  /// The signalfd leaves the io_context meanwhile, and returns to it afterwards.
  void serve_blocking(const std::function<bool()>& done);

 private:
  /// Hands every signal in `infos` to on_signal_, less the SIGPIPE of pginit's own writes.
  void dispatch(const signalfd_siginfo* infos, std::size_t count);
  void wait_next();
  asio::posix::stream_descriptor descriptor_;
  int own_pid_;
  std::function<void(int, int)> on_signal_;
};

}  // namespace pginit
