#include "command_line.h"

#include <cctype>

#include <fmt/format.h>

namespace pginit {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

Failure bad_command(std::string_view why) {
  return {ExitCode::kUsage, fmt::format("invalid --migrate-cmd: {}", why)};
}

void append_utf8(std::string& out, unsigned code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

Result<std::vector<std::string>> parse_json_string_array(std::string_view text) {
  std::vector<std::string> argv;
  std::size_t pos = 1;  // after '['
  auto skip_blanks = [&] {
    while (pos < text.size() && is_blank(text[pos])) ++pos;
  };
  skip_blanks();
  if (pos < text.size() && text[pos] == ']') return bad_command("the JSON array is empty");
  while (true) {
    skip_blanks();
    if (pos >= text.size() || text[pos] != '"') return bad_command("JSON array items must be strings");
    ++pos;
    std::string item;
    while (true) {
      if (pos >= text.size()) return bad_command("unterminated string in JSON array");
      char c = text[pos++];
      if (c == '"') break;
      if (c != '\\') {
        item += c;
        continue;
      }
      if (pos >= text.size()) return bad_command("unterminated string in JSON array");
      char escaped = text[pos++];
      switch (escaped) {
        case '"':
        case '\\':
        case '/':
          item += escaped;
          break;
        case 'b':
          item += '\b';
          break;
        case 'f':
          item += '\f';
          break;
        case 'n':
          item += '\n';
          break;
        case 'r':
          item += '\r';
          break;
        case 't':
          item += '\t';
          break;
        case 'u': {
          if (pos + 4 > text.size()) return bad_command("bad \\u escape in JSON array");
          unsigned code_point = 0;
          for (int i = 0; i < 4; ++i) {
            char hex = text[pos++];
            if (!std::isxdigit(static_cast<unsigned char>(hex))) return bad_command("bad \\u escape in JSON array");
            code_point = code_point * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(hex))
                                                                     ? hex - '0'
                                                                     : (std::tolower(hex) - 'a' + 10));
          }
          if (code_point == 0) return bad_command("it contains a NUL byte");  // exec would cut the word there
          append_utf8(item, code_point);
          break;
        }
        default:
          return bad_command("bad escape in JSON array");
      }
    }
    argv.push_back(std::move(item));
    skip_blanks();
    if (pos < text.size() && text[pos] == ',') {
      ++pos;
      continue;
    }
    if (pos < text.size() && text[pos] == ']') {
      ++pos;
      skip_blanks();
      if (pos != text.size()) return bad_command("text after the JSON array");
      return argv;
    }
    return bad_command("expected ',' or ']' in JSON array");
  }
}

}  // namespace

Result<std::vector<std::string>> split_command_line(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return bad_command("it contains a NUL byte");
  std::size_t first = 0;
  while (first < text.size() && is_blank(text[first])) ++first;
  if (first < text.size() && text[first] == '[') return parse_json_string_array(text.substr(first));

  std::vector<std::string> argv;
  std::string word;
  bool in_word = false;
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    char c = text[pos];
    if (is_blank(c)) {
      if (in_word) argv.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (++pos >= text.size()) return bad_command("a trailing backslash");
      if (text[pos] != '\n') word += text[pos];  // backslash-newline continues the line
    } else if (c == '\'') {
      std::size_t close = text.find('\'', pos + 1);
      if (close == std::string_view::npos) return bad_command("unterminated single quote");
      word.append(text.substr(pos + 1, close - pos - 1));
      pos = close;
    } else if (c == '"') {
      for (++pos;; ++pos) {
        if (pos >= text.size()) return bad_command("unterminated double quote");
        char inner = text[pos];
        if (inner == '"') break;
        if (inner == '\\' && pos + 1 < text.size() &&
            std::string_view("\"\\$`\n").find(text[pos + 1]) != std::string_view::npos) {
          ++pos;
          if (text[pos] != '\n') word += text[pos];
          continue;
        }
        word += inner;
      }
    } else {
      word += c;
    }
  }
  if (in_word) argv.push_back(std::move(word));
  if (argv.empty()) return bad_command("the command is empty");
  return argv;
}

std::string join_command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) {
    if (!out.empty()) out += ' ';
    bool plain =
        !arg.empty() && arg.find_first_of(" \t\r\n'\"\\$`*?;&|<>()[") == std::string::npos;  // '[' would read as JSON
    if (plain) {
      out += arg;
      continue;
    }
    out += '\'';
    for (char c : arg) {
      if (c == '\'')
        out += "'\\''";
      else
        out += c;
    }
    out += '\'';
  }
  return out;
}

}  // namespace pginit
