#pragma once
// Lines of a migration file, with where each begins: what the tools' parsers read (pure).
#include <cstddef>
#include <string_view>
#include <vector>

namespace pginit {

struct Line {
  std::string_view text;  ///< without its "\n" (a "\r" before it stays, as Go's bufio.Scanner leaves it: see trim)
  std::size_t begin;      ///< offset of its first character in the file
  std::size_t end;        ///< offset just past its "\n" (or the end of the file)
  int number;             ///< 1-based
};

/// The lines of `text`, split at "\n".
std::vector<Line> lines_of(std::string_view text);

/// `text` without blanks (space, tab, \r, \n, \v, \f) at either end.
std::string_view trim(std::string_view text);

}  // namespace pginit
