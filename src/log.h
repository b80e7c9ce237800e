#pragma once
// Logging on stderr, as text or JSON, with every password redacted before it is formatted.
#include <concepts>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"
#include "exit_code.h"

namespace pginit::log {

/// A machine-readable key=value field of a log line. Integers stay numbers in JSON.
struct Field {
  Field(std::string_view field_key, std::string text) : key(field_key), value(std::move(text)) {}
  Field(std::string_view field_key, const char* text) : key(field_key), value(text) {}
  template <std::integral Number>
  requires(!std::same_as<Number, bool> && !std::same_as<Number, char>) Field(std::string_view field_key, Number number)
      : key(field_key), value(std::to_string(number)), is_number(true) {}

  std::string_view key;
  std::string value;
  bool is_number = false;
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

/// A failure pginit ends with, as its one error line: "MESSAGE (exit CODE)". Returns CODE.
int failure(ExitCode code, std::string_view message, std::initializer_list<Field> fields = {});

}  // namespace pginit::log
