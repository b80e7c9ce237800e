#include "migrations/sql_split.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace pginit {
namespace {

bool is_identifier_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool is_identifier_char(char c) {
  return is_identifier_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$';
}
bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool equals_ignoring_case(std::string_view word, std::string_view keyword) {
  return word.size() == keyword.size() && std::equal(word.begin(), word.end(), keyword.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

class Splitter {
 public:
  explicit Splitter(std::string_view sql) : sql_(sql) {}

  std::vector<SqlStatement> run() {
    while (pos_ < sql_.size()) step();
    finish_statement(sql_.size());
    return statements_;
  }

 private:
  char at(std::size_t index) const { return index < sql_.size() ? sql_[index] : '\0'; }
  bool previous_is_identifier_char() const { return pos_ > 0 && is_identifier_char(sql_[pos_ - 1]); }

  void step() {
    const char c = sql_[pos_];
    if (c == '-' && at(pos_ + 1) == '-') return skip_line_comment();
    if (c == '/' && at(pos_ + 1) == '*') return skip_block_comment();
    if (c == '\'') return skip_quoted('\'', /*backslash_escapes=*/false, pos_ + 1);
    if (c == '"') return skip_quoted('"', false, pos_ + 1);
    if ((c == 'E' || c == 'e') && at(pos_ + 1) == '\'' && !previous_is_identifier_char()) {
      mark_significant();
      return skip_quoted('\'', true, pos_ + 2);
    }
    if (c == '$' && !previous_is_identifier_char() && try_skip_dollar_quote()) return;
    if (is_identifier_start(c)) return read_word();
    if (c == '(') ++paren_depth_;
    if (c == ')' && paren_depth_ > 0) --paren_depth_;
    if (c == ';' && paren_depth_ == 0 && begin_depth_ == 0) {
      finish_statement(pos_);
      ++pos_;
      return;
    }
    if (!is_blank(c)) mark_significant();
    ++pos_;
  }

  void skip_line_comment() {
    std::size_t end = sql_.find('\n', pos_);
    pos_ = end == std::string_view::npos ? sql_.size() : end;
  }

  void skip_block_comment() {
    int depth = 0;
    while (pos_ < sql_.size()) {
      if (sql_[pos_] == '/' && at(pos_ + 1) == '*') {
        ++depth;
        pos_ += 2;
      } else if (sql_[pos_] == '*' && at(pos_ + 1) == '/') {
        pos_ += 2;
        if (--depth == 0) return;
      } else {
        ++pos_;
      }
    }
  }

  // From `body_start` to the closing quote; a doubled quote is an escaped quote in both styles.
  void skip_quoted(char quote, bool backslash_escapes, std::size_t body_start) {
    mark_significant();
    pos_ = body_start;
    while (pos_ < sql_.size()) {
      char c = sql_[pos_];
      if (backslash_escapes && c == '\\') {
        pos_ += 2;
      } else if (c == quote) {
        if (at(pos_ + 1) == quote) {
          pos_ += 2;
        } else {
          ++pos_;
          return;
        }
      } else {
        ++pos_;
      }
    }
    pos_ = std::min(pos_, sql_.size());
  }

  // $$…$$ or $tag$…$tag$, where tag is an identifier not starting with a digit ($1 is a parameter).
  bool try_skip_dollar_quote() {
    std::size_t tag_end = pos_ + 1;
    if (tag_end < sql_.size() && is_identifier_start(sql_[tag_end])) {
      while (tag_end < sql_.size() && is_identifier_char(sql_[tag_end]) && sql_[tag_end] != '$') ++tag_end;
    }
    if (at(tag_end) != '$') return false;
    const std::string_view tag = sql_.substr(pos_, tag_end - pos_ + 1);
    const std::size_t close = sql_.find(tag, tag_end + 1);
    mark_significant();
    pos_ = close == std::string_view::npos ? sql_.size() : close + tag.size();
    return true;
  }

  // psql's rule (psqlscan.l): BEGIN or CASE after the statement's first word opens a block that
  // END closes, so the semicolons of a BEGIN ATOMIC body do not end the CREATE FUNCTION.
  void read_word() {
    std::size_t end = pos_;
    while (end < sql_.size() && is_identifier_char(sql_[end])) ++end;
    const std::string_view word = sql_.substr(pos_, end - pos_);
    ++word_count_;
    if (equals_ignoring_case(word, "begin") || equals_ignoring_case(word, "case")) {
      if (word_count_ > 1) ++begin_depth_;
    } else if (equals_ignoring_case(word, "end")) {
      if (begin_depth_ > 0) --begin_depth_;
    }
    mark_significant();
    pos_ = end;
  }

  // The statement starts at its first token: comments before it are not sent, and its line is the
  // line of that token.
  void mark_significant() {
    if (!significant_) first_token_ = pos_;
    significant_ = true;
  }

  void finish_statement(std::size_t end) {
    if (significant_) {
      const std::size_t first = first_token_;
      std::size_t last = end;
      while (last > first && is_blank(sql_[last - 1])) --last;
      const int line =
          1 + static_cast<int>(std::count(sql_.begin(), sql_.begin() + static_cast<std::ptrdiff_t>(first), '\n'));
      statements_.push_back({sql_.substr(first, last - first), first, line});
    }
    significant_ = false;
    word_count_ = 0;
    begin_depth_ = 0;
    paren_depth_ = 0;
  }

  std::string_view sql_;
  std::size_t pos_ = 0;
  bool significant_ = false;
  std::size_t first_token_ = 0;
  int word_count_ = 0;
  int begin_depth_ = 0;
  int paren_depth_ = 0;
  std::vector<SqlStatement> statements_;
};

}  // namespace

std::vector<SqlStatement> split_sql(std::string_view sql) {
  return Splitter(sql).run();
}

int line_of_position(std::string_view statement, int position) {
  int line = 1;
  int characters = 0;
  for (char c : statement) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80 && ++characters >= position) break;
    if (c == '\n') ++line;
  }
  return line;
}

}  // namespace pginit
