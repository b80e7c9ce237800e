#pragma once
// Where one SQL statement ends: needed to run a no-transaction file one statement at a time.
#include <cstddef>
#include <string_view>
#include <vector>

namespace pginit {

struct SqlStatement {
  std::string_view text;  ///< from its first token (not a comment) to before the terminating ';'
  std::size_t offset;     ///< of `text` in the input
  int line;               ///< 1-based line of `text`'s first character
};

/// Splits `sql` at top-level semicolons as psql does: not inside '…' (with '' escapes), E'…'
/// (with backslash escapes), "…" identifiers, $tag$…$tag$ bodies, -- and nested /* */ comments,
/// parentheses, or BEGIN ATOMIC … END / CASE … END bodies. Comments before a statement's first
/// token are left out; statements that hold nothing but blanks and comments are dropped. Never fails: an unterminated
/// quote extends to the end.
std::vector<SqlStatement> split_sql(std::string_view sql);

/// 1-based line within `statement` of 1-based character `position` (Postgres counts characters,
/// not bytes: UTF-8 continuation bytes are not counted).
int line_of_position(std::string_view statement, int position);

}  // namespace pginit
