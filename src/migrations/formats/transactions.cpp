#include "migrations/formats/transactions.h"

#include <cctype>
#include <string>

#include "migrations/formats/sql_split.h"

namespace pginit {
namespace {

// The statement's first words, lower case, blanks folded: enough to name what it is.
std::string head_of(std::string_view statement) {
  std::string words;
  for (char c : statement) {
    if (words.size() > 80) break;
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!words.empty() && words.back() != ' ') words += ' ';
    } else {
      words += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return words;
}

bool starts_with_words(std::string_view head, std::string_view words) {
  return head.starts_with(words) &&
         (head.size() == words.size() || !std::isalnum(static_cast<unsigned char>(head[words.size()])));
}

}  // namespace

bool runs_outside_a_transaction(std::string_view statement) {
  const std::string head = head_of(statement);
  for (std::string_view start :
       {"create database", "drop database", "create tablespace", "drop tablespace", "create subscription",
        "drop subscription", "alter system", "create index concurrently", "create unique index concurrently",
        "drop index concurrently", "reindex schema", "reindex database", "reindex system", "vacuum", "discard all"}) {
    if (starts_with_words(head, start)) return true;
  }
  return false;
}

bool can_run_in_a_transaction(std::string_view sql) {
  for (const SqlStatement& statement : split_sql(sql).statements) {
    const std::string head = head_of(statement.text);
    for (std::string_view control : {"begin", "start transaction", "commit", "end", "rollback", "abort"}) {
      if (starts_with_words(head, control)) return false;
    }
    if (runs_outside_a_transaction(statement.text)) return false;
  }
  return true;
}

}  // namespace pginit
