#pragma once
// --migrate-cmd as one string: split like a shell would, without running one.
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace pginit {

/// Splits `text` into argv. A JSON array of strings (`["python","manage.py","migrate"]`) is taken
/// as it is; anything else is split on blanks with sh's quoting rules: '…' literal, "…" where a
/// backslash escapes only " \ $ and `, a backslash outside quotes escapes the next character.
/// No expansion of any kind.
/// Usage error (64) for an unterminated quote, a malformed JSON array, or an empty command.
Result<std::vector<std::string>> split_command_line(std::string_view text);

/// The inverse, for log lines: arguments joined with spaces, quoted where needed.
std::string join_command_line(const std::vector<std::string>& argv);

}  // namespace pginit
