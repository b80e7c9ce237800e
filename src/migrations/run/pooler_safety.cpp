#include "migrations/run/pooler_safety.h"

#include <cctype>

namespace pginit {
namespace {

// The statement lower-cased with runs of white space as one blank, up to `limit` characters.
std::string folded(std::string_view statement, std::size_t limit) {
  std::string text;
  for (char c : statement) {
    if (text.size() >= limit) break;
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!text.empty() && text.back() != ' ') text += ' ';
      continue;
    }
    text += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

bool starts_with_word(std::string_view text, std::string_view word) {
  if (!text.starts_with(word)) return false;
  if (text.size() == word.size()) return true;
  const char next = text[word.size()];
  return !std::isalnum(static_cast<unsigned char>(next)) && next != '_';
}

bool contains(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}

}  // namespace

std::optional<std::string> pooler_unsafe_reason(std::string_view statement, bool no_transaction) {
  const std::string head = folded(statement, 64);
  const std::string text = folded(statement, statement.size());
  // pg_advisory_lock and pg_try_advisory_lock (and their _shared forms) are the session-level
  // ones; the transaction-level functions are named pg_[try_]advisory_xact_lock.
  if (contains(text, "pg_advisory_lock") || contains(text, "pg_try_advisory_lock"))
    return "a session-level advisory lock would stay behind on a pooled server connection";
  if (starts_with_word(head, "listen")) return "LISTEN would stay behind on a pooled server connection";
  if (starts_with_word(head, "prepare") && !head.starts_with("prepare transaction"))
    return "a prepared statement would stay behind on a pooled server connection";
  if (starts_with_word(head, "declare") && contains(text, " with hold"))
    return "a WITH HOLD cursor would stay behind on a pooled server connection";
  for (std::string_view temporary : {"create temp ", "create temporary ", "create local temp", "create global temp"}) {
    if (head.starts_with(temporary) && !contains(text, "on commit drop"))
      return "a temporary object would stay behind on a pooled server connection (ON COMMIT DROP would not)";
  }
  if (!no_transaction) return std::nullopt;
  const bool set = starts_with_word(head, "set");
  const bool transaction_scoped =
      head.starts_with("set local ") || head.starts_with("set transaction ") || head.starts_with("set constraints ");
  if ((set && !transaction_scoped) || starts_with_word(head, "reset"))
    return "in a no-transaction file each statement may run on another server connection, so a session setting "
           "would not reach the next statement and would stay behind for other clients";
  return std::nullopt;
}

}  // namespace pginit
