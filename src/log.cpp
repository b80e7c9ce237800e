#include "log.h"

#include <chrono>
#include <ctime>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "dsn.h"

namespace pginit::log {
namespace {

struct State {
  LogFormat format = LogFormat::kText;
  std::vector<std::string> secrets;
  std::shared_ptr<spdlog::logger> logger;
};

State& state() {
  static State instance = [] {
    State initial;
    // The plain stderr sink: pginit has one thread, and "%v" because lines are formatted here.
    initial.logger = std::make_shared<spdlog::logger>("pginit", std::make_shared<spdlog::sinks::stderr_sink_st>());
    initial.logger->set_pattern("%v");
    initial.logger->set_level(spdlog::level::info);
    initial.logger->flush_on(spdlog::level::trace);
    return initial;
  }();
  return instance;
}

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        else
          out += c;
    }
  }
  out += '"';
}

std::string format_text(LogLevel level, const std::string& message, const std::vector<Field>& fields) {
  std::string line = "pginit: ";
  if (level == LogLevel::kWarn) line += "warning: ";
  if (level == LogLevel::kDebug) line += "debug: ";
  line += message;
  for (const auto& [key, value, is_number] : fields) {
    bool quote = value.empty() || value.find_first_of(" \"=\t\n") != std::string::npos;
    if (quote) {
      line += fmt::format(" {}=", key);
      append_json_string(line, value);
    } else {
      line += fmt::format(" {}={}", key, value);
    }
  }
  return line;
}

std::string format_json(LogLevel level, const std::string& message, const std::vector<Field>& fields) {
  const auto now = std::chrono::system_clock::now();
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  // By hand rather than fmt's chrono formatter, which drags std::locale's facets into the static binary.
  std::string line = fmt::format(
      "{{\"time\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z\",\"level\":\"{}\",\"msg\":", utc.tm_year + 1900,
      utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis, level_name(level));
  append_json_string(line, message);
  for (const auto& [key, value, is_number] : fields) {
    line += ',';
    append_json_string(line, key);
    line += ':';
    if (is_number)
      line += value;
    else
      append_json_string(line, value);
  }
  line += '}';
  return line;
}

}  // namespace

void setup(LogFormat format, LogLevel level, std::vector<std::string> secrets) {
  State& current = state();
  current.format = format;
  current.secrets = std::move(secrets);
  current.logger->set_level(to_spdlog(level));
}

bool enabled(LogLevel level) {
  return state().logger->should_log(to_spdlog(level));
}

void write(LogLevel level, std::string_view message, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  State& current = state();
  std::vector<Field> clean_fields;
  clean_fields.reserve(fields.size());
  for (const Field& field : fields) {
    clean_fields.push_back(field);
    if (!field.is_number) clean_fields.back().value = redact(field.value, current.secrets);
  }
  const std::string clean_message = redact(message, current.secrets);
  const std::string line = current.format == LogFormat::kJson ? format_json(level, clean_message, clean_fields)
                                                              : format_text(level, clean_message, clean_fields);
  current.logger->log(to_spdlog(level), "{}", line);
}

int failure(ExitCode code, std::string_view message, std::initializer_list<Field> fields) {
  write(LogLevel::kError, fmt::format("{} (exit {})", message, static_cast<int>(code)), fields);
  return static_cast<int>(code);
}

}  // namespace pginit::log
