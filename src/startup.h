#pragma once
// The one line that says how long start-up took, when the app starts.
#include <chrono>
#include <optional>
#include <string>

#include "duration.h"

namespace pginit {

struct StartupReport {
  std::chrono::steady_clock::time_point started;  ///< when pginit's main began
  std::optional<Duration> wait;                   ///< the wait phase; nullopt with --no-wait
  std::optional<Duration> migrations;             ///< the migrate phase; nullopt without migrations
  int applied = 0;                                ///< migration files applied
};

/// "started the app after 1.4s (wait 1.1s, migrations 0.3s, 3 applied)", `total` after `started`.
std::string describe_startup(const StartupReport& report, Duration total);

}  // namespace pginit
