// Differential libFuzzer target: pginit's split_sql against psql's own scanner (psql_reference.c).
// Both must cut the input into the same statements; a backslash command must stop both.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "migrations/formats/sql_split.h"
#include "psql_reference.h"

namespace {

bool is_psql_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

std::string without_spaces(std::string_view text) {
  std::string out;
  for (char c : text)
    if (!is_psql_space(c)) out += c;
  return out;
}

// True when `text` holds nothing but spaces, /* */ and -- comments and semicolons: psql sends such
// a "statement" (the server ignores it), pginit does not.
bool only_comments(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (is_psql_space(text[pos]) || text[pos] == ';') {
      ++pos;
    } else if (text.substr(pos, 2) == "--") {
      while (pos < text.size() && text[pos] != '\n' && text[pos] != '\r') ++pos;
    } else if (text.substr(pos, 2) == "/*") {
      int depth = 0;
      while (pos < text.size()) {
        if (text.substr(pos, 2) == "/*") {
          ++depth;
          pos += 2;
        } else if (text.substr(pos, 2) == "*/") {
          pos += 2;
          if (--depth == 0) break;
        } else {
          ++pos;
        }
      }
    } else {
      return false;
    }
  }
  return true;
}

// psql's statement is pginit's (spaces aside: psql drops empty lines), with any block comments
// before its first token (pginit starts at the token) and the terminating ';' (pginit leaves it).
bool same_statement(std::string_view psql, std::string_view ours) {
  const std::string expected = without_spaces(psql), actual = without_spaces(ours);
  for (std::string_view candidate :
       {std::string_view(expected), std::string_view(expected).substr(0, expected.size() - 1)}) {
    if (candidate.size() == expected.size() - 1 && !expected.ends_with(';')) continue;
    if (!candidate.ends_with(actual)) continue;
    std::size_t prefix_chars = candidate.size() - actual.size(), raw = 0;
    for (; prefix_chars > 0; ++raw)
      if (!is_psql_space(psql[raw])) --prefix_chars;
    if (only_comments(psql.substr(0, raw))) return true;
  }
  return false;
}

void collect(const char* statement, std::size_t length, void* context) {
  auto* statements = static_cast<std::vector<std::string>*>(context);
  const std::string_view text(statement, length);
  if (!only_comments(text)) statements->emplace_back(text);
}

[[noreturn]] void mismatch(std::string_view input, const char* what, const std::vector<std::string>& psql,
                           const pginit::SqlSplit& ours) {
  std::fprintf(stderr, "pginit and psql disagree (%s) on:\n%.*s\n", what, static_cast<int>(input.size()), input.data());
  for (const std::string& statement : psql) std::fprintf(stderr, "psql:   [%s]\n", statement.c_str());
  for (const auto& statement : ours.statements)
    std::fprintf(stderr, "pginit: [%.*s]\n", static_cast<int>(statement.text.size()), statement.text.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view sql(reinterpret_cast<const char*>(data), size);
  // psql reads C strings (a NUL ends its line); \restrict lines pginit leaves out, psql executes.
  if (sql.find('\0') != std::string_view::npos || sql.find("restrict") != std::string_view::npos) return 0;
  std::vector<std::string> psql;
  const bool psql_stopped = psql_reference_split(sql.data(), sql.size(), collect, &psql) != 0;
  const pginit::SqlSplit ours = pginit::split_sql(sql);
  // No oracle for what pginit refuses but psql goes on with: COPY streams the data after it, and
  // \; and \: put a literal ; or : into psql's statement.
  if (ours.psql_only && (ours.psql_only->what.starts_with("COPY") || ours.psql_only->what == "psql meta-command \\;" ||
                         ours.psql_only->what == "psql meta-command \\:"))
    return 0;
  if (psql_stopped != ours.psql_only.has_value()) mismatch(sql, "backslash command", psql, ours);
  if (psql.size() != ours.statements.size()) mismatch(sql, "number of statements", psql, ours);
  // psql replaces :{?name} with TRUE or FALSE even without variables: then only the count compares.
  if (sql.find(":{?") != std::string_view::npos) return 0;
  for (std::size_t i = 0; i < psql.size(); ++i) {
    if (!same_statement(psql[i], ours.statements[i].text)) mismatch(sql, "statement text", psql, ours);
  }
  return 0;
}
