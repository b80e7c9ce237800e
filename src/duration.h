#pragma once
#include <chrono>
#include <string>
#include <string_view>

#include "result.h"

namespace pginit {

using Duration = std::chrono::milliseconds;

/// Parses "250ms", "5s", "1m30s", "2h", "1.5s" or a bare number of seconds ("10", "0.5").
/// Errors (usage, exit 64) name the offending text.
Result<Duration> parse_duration(std::string_view text);

/// Human form for logs: "250ms", "6.1s", "2m5s".
std::string format_duration(Duration duration);

/// The steady-clock time since `start`, in milliseconds.
inline Duration since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start);
}

}  // namespace pginit
