#pragma once
// Logging on stderr, as text or JSON, with every password redacted before it is formatted.
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"

namespace pginit::log {

/// A machine-readable key=value field of a log line.
struct Field {
  std::string_view key;
  std::string value;
};

/// Sets format, level and the secrets redacted from every message and field. Before setup,
/// lines go out as text at info level.
void setup(LogFormat format, LogLevel level, std::vector<std::string> secrets);

bool enabled(LogLevel level);
void write(LogLevel level, std::string_view message, std::initializer_list<Field> fields);

inline void debug(std::string_view message, std::initializer_list<Field> fields = {}) {
  write(LogLevel::kDebug, message, fields);
}
inline void info(std::string_view message, std::initializer_list<Field> fields = {}) {
  write(LogLevel::kInfo, message, fields);
}
inline void warn(std::string_view message, std::initializer_list<Field> fields = {}) {
  write(LogLevel::kWarn, message, fields);
}
inline void error(std::string_view message, std::initializer_list<Field> fields = {}) {
  write(LogLevel::kError, message, fields);
}


}  // namespace pginit::log
