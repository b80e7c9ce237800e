// libFuzzer target: the statement splitter never reads out of bounds, and what it returns is
// well-formed: statements in order, inside the input, with consistent line numbers.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "migrations/formats/sql_split.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view sql(reinterpret_cast<const char*>(data), size);
  std::size_t previous_end = 0;
  for (const pginit::SqlStatement& statement : pginit::split_sql(sql).statements) {
    if (statement.offset < previous_end || statement.offset + statement.text.size() > sql.size()) std::abort();
    if (sql.substr(statement.offset, statement.text.size()) != statement.text) std::abort();
    if (statement.text.empty()) std::abort();
    const auto newlines = std::count(sql.begin(), sql.begin() + static_cast<std::ptrdiff_t>(statement.offset), '\n');
    if (statement.line != newlines + 1) std::abort();
    previous_end = statement.offset + statement.text.size();
    pginit::line_of_position(statement.text, static_cast<int>(statement.text.size() % 97));
  }
  return 0;
}
