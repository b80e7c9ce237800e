#include "tool_url.h"

#include <cctype>
#include <vector>

namespace pginit {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// As Go's net/url decodes a query (the tools that wrote these URLs are Go programs): %XX, and '+' a space.
std::string url_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

std::string url_encode(std::string_view text) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += {'%', digits[c >> 4], digits[c & 15]};
    }
  }
  return out;
}

// libpq splits `options` at spaces, a backslash escaping the next character.
std::string options_word(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ' ' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

ToolUrl take_tool_url_parameters(std::string_view dsn) {
  ToolUrl result{std::string(dsn), {}};
  if (!dsn.starts_with("postgres://") && !dsn.starts_with("postgresql://")) return result;
  const std::size_t question = dsn.find('?');
  if (question == std::string_view::npos) return result;

  std::vector<std::string> kept;
  std::string options;  // decoded
  bool has_options = false;
  std::string_view query = dsn.substr(question + 1);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::size_t equals = piece.find('=');
    const std::string key = url_decode(piece.substr(0, equals));
    const std::string value = equals == std::string_view::npos ? "" : url_decode(piece.substr(equals + 1));
    std::string setting;
    if (key == "search_path") {
      setting = "-c search_path=" + options_word(value);
    } else if (key.starts_with("x-")) {
      result.parameters[key] = value;
      if (key == "x-statement-timeout") setting = "-c statement_timeout=" + options_word(value);
    } else if (key == "options") {
      options = value + (options.empty() ? "" : " " + options);
      has_options = true;
      continue;
    } else {
      kept.emplace_back(piece);
      continue;
    }
    if (!setting.empty()) {
      options += (options.empty() ? "" : " ") + setting;
      has_options = true;
    }
  }
  if (has_options) kept.push_back("options=" + url_encode(options));
  result.dsn = std::string(dsn.substr(0, question));
  for (std::size_t i = 0; i < kept.size(); ++i) result.dsn += (i == 0 ? "?" : "&") + kept[i];
  return result;
}

}  // namespace pginit
