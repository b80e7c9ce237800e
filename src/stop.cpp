#include "stop.h"

#include <fmt/format.h>

#include "exit_code.h"
#include "log.h"
#include "signals.h"

namespace pginit {

int report_stop(const StopRequest& stop) {
  const int code = exit_code_for_signal(stop.signo);
  log::info(fmt::format("stopped by SIG{} before the app started (exit {})", signal_name(stop.signo), code));
  return code;
}

}  // namespace pginit
