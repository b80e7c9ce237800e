#pragma once
// Where one SQL statement ends, exactly as psql decides it: pginit sends a file one statement at a
// time, and names statements and lines in its errors.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pginit {

struct SqlStatement {
  std::string_view text;  ///< from its first token (not a comment) to before the terminating ';'
  std::size_t offset;     ///< of `text` in the input
  int line;               ///< 1-based line of `text`'s first character
};

/// psql-only syntax that pginit cannot run, and where it is.
struct PsqlOnlySyntax {
  int line = 0;
  std::string what;  ///< e.g. "psql meta-command \\set", "COPY ... FROM stdin"
};

struct SqlSplit {
  std::vector<SqlStatement> statements;
  /// Lines holding pg_dump's `\restrict KEY` / `\unrestrict KEY`: they only guard psql itself
  /// and are left out.
  std::vector<int> skipped_lines;
  /// The first psql meta-command (a backslash outside quotes and comments) or COPY FROM stdin /
  /// TO stdout; when set, splitting stopped there and the file must not be sent at all.
  std::optional<PsqlOnlySyntax> psql_only;
};

/// Splits `sql` at the semicolons where psql's lexer (src/fe_utils/psqlscan.l) ends a statement:
/// not inside '...' (with '' escapes), E'...' (backslash escapes), B'', X'', N'', U&'', "..." and
/// U&"...", $tag$...$tag$, -- or nested /* */ comments, or parentheses, and not inside BEGIN ...
/// END (and CASE ... END within it) after CREATE [OR REPLACE] FUNCTION|PROCEDURE at parenthesis
/// depth 0. Numbers, parameters ($1) and identifiers are whole tokens, as in psql, so `1$$` or
/// `a$b$` start no dollar quote. Assumes standard_conforming_strings = on (the default since 9.1).
/// Statements holding only comments are dropped. Never fails: an unterminated quote extends to the
/// end. Linear in the input's length.
SqlSplit split_sql(std::string_view sql);

/// 1-based line within `statement` of 1-based character `position` (Postgres counts characters,
/// not bytes: UTF-8 continuation bytes are not counted).
int line_of_position(std::string_view statement, int position);

}  // namespace pginit
