#include "duration.h"

#include <array>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

namespace pginit {
namespace {

struct Unit {
  std::string_view suffix;
  double milliseconds;
};
// Longest suffix first so that "ms" is not read as "m" followed by garbage.
constexpr std::array kUnits{Unit{"ms", 1.0}, Unit{"h", 3'600'000.0}, Unit{"m", 60'000.0}, Unit{"s", 1000.0}};
constexpr double kMaxMilliseconds = 1e15;  // ~31,000 years: far past any real timeout

Failure bad_duration(std::string_view text, std::string_view why) {
  return {ExitCode::kUsage, fmt::format("invalid duration \"{}\": {}; use e.g. 250ms, 5s, 1m30s, 2h", text, why)};
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return bad_duration(text, "empty");
  double total = 0;
  std::size_t pos = 0;
  bool bare_number = true;
  while (pos < text.size()) {
    std::size_t start = pos;
    double number = 0;
    while (pos < text.size() && is_digit(text[pos])) number = number * 10 + (text[pos++] - '0');
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      double scale = 0.1;
      std::size_t fraction_start = pos;
      while (pos < text.size() && is_digit(text[pos])) {
        number += (text[pos++] - '0') * scale;
        scale /= 10;
      }
      if (pos == fraction_start) return bad_duration(text, "digits expected after '.'");
    }
    if (pos == start) return bad_duration(text, "a number expected");
    if (number > kMaxMilliseconds) return bad_duration(text, "too large");
    if (pos == text.size()) {
      if (!bare_number) return bad_duration(text, "a unit expected after the last number");
      total += number * 1000.0;
      break;
    }
    bare_number = false;
    const Unit* unit = nullptr;
    for (const Unit& candidate : kUnits) {
      if (text.substr(pos).starts_with(candidate.suffix)) {
        unit = &candidate;
        break;
      }
    }
    if (unit == nullptr) return bad_duration(text, "unknown unit");
    pos += unit->suffix.size();
    total += number * unit->milliseconds;
    if (total > kMaxMilliseconds) return bad_duration(text, "too large");
  }
  return Duration{static_cast<std::int64_t>(std::llround(total))};
}

std::string format_duration(Duration duration) {
  auto ms = duration.count();
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 60'000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  auto minutes = ms / 60'000;
  auto seconds = (ms % 60'000) / 1000;
  if (minutes < 60) return fmt::format("{}m{}s", minutes, seconds);
  return fmt::format("{}h{}m", minutes / 60, minutes % 60);
}

}  // namespace pginit
