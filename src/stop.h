#pragma once
// A request to stop before the app runs: the first TERM/INT/QUIT/HUP, and how it reaches the work.
#include <asio/cancellation_signal.hpp>

namespace pginit {

struct StopRequest {
  int signo = 0;                     ///< the signal that asked; 0 = none yet
  asio::cancellation_signal cancel;  ///< bound to the pipeline coroutine's current operation

  bool requested() const { return signo != 0; }
  /// Records the first signal and aborts whatever the pipeline is waiting for.
  void request(int signal_number) {
    if (signo == 0) signo = signal_number;
    cancel.emit(asio::cancellation_type::terminal);
  }
};

/// Logs that start-up was stopped and returns 128 + the signal, pginit's exit code for it.
int report_stop(const StopRequest& stop);

}  // namespace pginit
