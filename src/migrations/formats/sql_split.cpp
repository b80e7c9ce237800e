#include "migrations/formats/sql_split.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace pginit {
namespace {

// Character classes of psqlscan.l. Its {space} has no \v: a vertical tab is an ordinary character.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
bool is_newline(char c) {
  return c == '\n' || c == '\r';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ident_start(char c) {  // also {dolq_start}
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool is_dolq_cont(char c) {
  return is_ident_start(c) || is_digit(c);
}
bool is_ident_cont(char c) {
  return is_dolq_cont(c) || c == '$';
}
bool is_variable_char(char c) {  // psql's {variable_char}: no $
  return is_dolq_cont(c);
}
char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}
bool equals_ignoring_case(std::string_view word, std::string_view keyword) {
  return word.size() == keyword.size() &&
         std::equal(word.begin(), word.end(), keyword.begin(), [](char a, char b) { return lower(a) == b; });
}

enum class Copy { kNone, kStatement, kAfterFrom, kAfterTo };

class Scanner {
 public:
  explicit Scanner(std::string_view sql) : sql_(sql) {}

  SqlSplit run() {
    while (pos_ < sql_.size() && !result_.psql_only) step();
    if (!result_.psql_only) finish_statement(sql_.size());
    return std::move(result_);
  }

 private:
  char at(std::size_t index) const { return index < sql_.size() ? sql_[index] : '\0'; }

  // 1-based line of `offset`. Offsets nearly always grow, so each newline is counted once: the
  // split stays linear even for a 3 MB schema dump.
  int line_at(std::size_t offset) {
    const auto begin = sql_.begin();
    const auto from = begin + static_cast<std::ptrdiff_t>(std::min(offset, counted_to_));
    const auto to = begin + static_cast<std::ptrdiff_t>(std::max(offset, counted_to_));
    const auto newlines = static_cast<int>(std::count(from, to, '\n'));
    line_ += offset >= counted_to_ ? newlines : -newlines;
    counted_to_ = offset;
    return line_;
  }

  // One token of psql's INITIAL state.
  void step() {
    const char c = sql_[pos_];
    if (is_space(c)) {
      ++pos_;
    } else if (c == '-' && at(pos_ + 1) == '-') {
      while (pos_ < sql_.size() && !is_newline(sql_[pos_])) ++pos_;
    } else if (c == '/' && at(pos_ + 1) == '*') {
      skip_block_comment();
    } else if (c == '\'') {
      token_seen();
      skip_string(pos_, /*backslash_escapes=*/false);
    } else if (c == '"') {
      token_seen();
      skip_quoted_identifier(pos_);
    } else if (c == '$') {
      token_seen();
      scan_dollar();
    } else if (is_ident_start(c)) {
      scan_word();
    } else if (is_digit(c) || (c == '.' && is_digit(at(pos_ + 1)))) {
      token_seen();
      scan_number();
    } else if (c == '\\') {
      scan_backslash();
    } else if (c == ':') {
      token_seen();
      scan_colon();
    } else {
      if (c == ';' && paren_depth_ == 0 && begin_depth_ == 0) {
        finish_statement(pos_);
        ++pos_;
        return;
      }
      if (c == '(') ++paren_depth_;
      if (c == ')' && paren_depth_ > 0) --paren_depth_;
      token_seen();
      ++pos_;
    }
  }

  // Nested /* */ comments ({xcstart} ... {xcstop} with xcdepth).
  void skip_block_comment() {
    int depth = 0;
    pos_ += 2;
    while (pos_ < sql_.size()) {
      if (sql_[pos_] == '/' && at(pos_ + 1) == '*') {
        ++depth;
        pos_ += 2;
      } else if (sql_[pos_] == '*' && at(pos_ + 1) == '/') {
        pos_ += 2;
        if (depth-- == 0) return;
      } else {
        ++pos_;
      }
    }
  }

  // A string from its opening quote at `quote`: '' is a quote inside it; in E'' a backslash
  // escapes the next character. B'', X'', N'' and U&'' scan like '' (for where they end, a quote
  // that closes one and opens the next is the same as '').
  void skip_string(std::size_t quote, bool backslash_escapes) {
    pos_ = quote + 1;
    while (pos_ < sql_.size()) {
      const char c = sql_[pos_];
      if (backslash_escapes && c == '\\') {
        pos_ += 2;
      } else if (c != '\'') {
        ++pos_;
      } else if (at(pos_ + 1) == '\'') {
        pos_ += 2;
      } else if (std::size_t next = continued_quote(pos_ + 1); next != 0) {
        pos_ = next + 1;  // the literal goes on, in the same state (so E'' keeps its escapes)
      } else {
        pos_ = std::min(pos_ + 1, sql_.size());
        return;
      }
    }
    pos_ = sql_.size();
  }

  // {quotecontinue}: whitespace with a newline, then a quote, continues a literal ('a'\n'b' is
  // 'ab'). psql scans one line at a time, split at \n, so only a \r can be that newline. Returns
  // the offset of the continuing quote, or 0.
  std::size_t continued_quote(std::size_t from) const {
    std::size_t p = from;
    auto skip_comment = [&] {
      while (p < sql_.size() && !is_newline(sql_[p])) ++p;
    };
    while (true) {  // {horiz_whitespace}*
      if (at(p) == ' ' || at(p) == '\t' || at(p) == '\f') {
        ++p;
      } else if (at(p) == '-' && at(p + 1) == '-') {
        skip_comment();
      } else {
        break;
      }
    }
    if (at(p) != '\r') return 0;
    ++p;
    while (true) {  // {special_whitespace}*, within the line: no \n
      if (at(p) == ' ' || at(p) == '\t' || at(p) == '\f' || at(p) == '\r') {
        ++p;
      } else if (at(p) == '-' && at(p + 1) == '-') {
        skip_comment();
        if (at(p) != '\r') return 0;
        ++p;
      } else {
        break;
      }
    }
    return at(p) == '\'' ? p : 0;
  }

  void skip_quoted_identifier(std::size_t quote) {  // "..." and U&"...": "" inside
    pos_ = quote + 1;
    while (pos_ < sql_.size()) {
      if (sql_[pos_] == '"' && at(pos_ + 1) == '"') {
        pos_ += 2;
      } else if (sql_[pos_] == '"') {
        ++pos_;
        return;
      } else {
        ++pos_;
      }
    }
  }

  // $1 (a parameter, with any identifier glued to it), $tag$...$tag$, or a lone $.
  void scan_dollar() {
    std::size_t p = pos_ + 1;
    if (is_digit(at(p))) {
      while (is_digit(at(p))) ++p;
      if (is_ident_start(at(p))) {
        while (is_ident_cont(at(p))) ++p;
      }
      pos_ = p;
      return;
    }
    if (is_ident_start(at(p))) {
      while (is_dolq_cont(at(p))) ++p;
    }
    if (at(p) != '$') {
      ++pos_;  // {dolqfailed}: only the $ is taken; what follows is scanned again
      return;
    }
    const std::string_view tag = sql_.substr(pos_, p - pos_ + 1);
    const std::size_t close = sql_.find(tag, p + 1);
    pos_ = close == std::string_view::npos ? sql_.size() : close + tag.size();
  }

  // psql variables are tokens of their own (:name, :'name', :"name", :{?name}), so "x:a$$" holds
  // no identifier and its $$ opens a dollar quote; :: and := are operators. pginit substitutes
  // nothing: without -v, psql has no variable to substitute either.
  void scan_colon() {
    auto variable_end = [this](std::size_t from) {
      while (is_variable_char(at(from))) ++from;
      return from;
    };
    const char next = at(pos_ + 1);
    std::size_t end = pos_ + 1;
    if (next == ':' || next == '=') {
      end = pos_ + 2;
    } else if (is_variable_char(next)) {
      end = variable_end(pos_ + 1);
    } else if (next == '\'' || next == '"') {
      const std::size_t name_end = variable_end(pos_ + 2);
      if (name_end > pos_ + 2 && at(name_end) == next) end = name_end + 1;
    } else if (next == '{' && at(pos_ + 2) == '?') {
      const std::size_t name_end = variable_end(pos_ + 3);
      if (name_end > pos_ + 3 && at(name_end) == '}') end = name_end + 1;
    }
    pos_ = end;
  }

  // {integer}, {decimal}, {real}, their {*_junk} forms (an identifier glued on) and {decimalfail},
  // {realfail}: flex takes the longest match, so "2E2$a$$" is one junk token (E2$a$$ is an
  // identifier) while "2$$x$$" is 2 then a dollar quote, "1e'x'" holds no E'' string and "1begin" is
  // no BEGIN.
  void scan_number() {
    auto identifier_end = [this](std::size_t from) {
      if (!is_ident_start(at(from))) return from;
      while (is_ident_cont(at(++from))) {
      }
      return from;
    };
    std::size_t digits_end = pos_;
    while (is_digit(at(digits_end))) ++digits_end;
    const bool has_digits = digits_end > pos_;
    std::size_t token_end = digits_end, longest = digits_end;  // {integer}
    auto consider = [&](std::size_t match_end, std::size_t end_of_token) {
      if (match_end > longest) longest = match_end, token_end = end_of_token;
    };
    std::size_t number_end = digits_end;  // of {integer} or {decimal}
    if (at(digits_end) == '.' && at(digits_end + 1) == '.' && has_digits) {
      consider(digits_end + 2, digits_end);  // {decimalfail}: "1..10" is 1 .. 10
    } else if (at(digits_end) == '.') {
      number_end = digits_end + 1;
      while (is_digit(at(number_end))) ++number_end;
      consider(number_end, number_end);  // {decimal}
    }
    if (has_digits) consider(identifier_end(digits_end), identifier_end(digits_end));                // {integer_junk}
    if (number_end != digits_end) consider(identifier_end(number_end), identifier_end(number_end));  // {decimal_junk}
    if (at(number_end) == 'e' || at(number_end) == 'E') {
      std::size_t exponent = number_end + 1;
      const bool signed_exponent = at(exponent) == '+' || at(exponent) == '-';
      if (signed_exponent) ++exponent;
      if (is_digit(at(exponent))) {
        while (is_digit(at(exponent))) ++exponent;
        consider(exponent, exponent);                                  // {real}
        consider(identifier_end(exponent), identifier_end(exponent));  // {real_junk}
      } else if (signed_exponent) {
        consider(exponent, exponent);  // {realfail}
      }
    }
    pos_ = token_end;
  }

  // An identifier or keyword, or one of the prefixed literals E'' B'' X'' N'' U&'' U&"".
  void scan_word() {
    const char first = lower(sql_[pos_]);
    token_seen();
    if (at(pos_ + 1) == '\'' && (first == 'e' || first == 'b' || first == 'x' || first == 'n')) {
      skip_string(pos_ + 1, first == 'e');
      return;
    }
    if (first == 'u' && at(pos_ + 1) == '&') {
      if (at(pos_ + 2) == '\'') return skip_string(pos_ + 2, false);
      if (at(pos_ + 2) == '"') return skip_quoted_identifier(pos_ + 2);
      ++pos_;  // {xufailed}: the u alone, not an identifier
      return;
    }
    std::size_t end = pos_ + 1;
    while (is_ident_cont(at(end))) ++end;
    const std::string_view word = sql_.substr(pos_, end - pos_);
    pos_ = end;
    track_function_body(word);
    track_copy(word);
    ++identifier_count_;
  }

  // psqlscan.l's heuristic: once a statement starts CREATE [OR REPLACE] FUNCTION|PROCEDURE, BEGIN
  // at parenthesis depth 0 opens a body (BEGIN ATOMIC) whose semicolons do not end the statement,
  // CASE inside it nests, END closes. A column named "begin" anywhere else is just a name.
  void track_function_body(std::string_view word) {
    if (identifier_count_ == 0) identifiers_.fill('\0');
    for (std::string_view keyword : {"create", "function", "procedure", "or", "replace"}) {
      if (identifier_count_ < static_cast<int>(identifiers_.size()) && equals_ignoring_case(word, keyword))
        identifiers_[static_cast<std::size_t>(identifier_count_)] = keyword[0];
    }
    const auto& id = identifiers_;
    const bool defines_routine = id[0] == 'c' && (id[1] == 'f' || id[1] == 'p' ||
                                                  (id[1] == 'o' && id[2] == 'r' && (id[3] == 'f' || id[3] == 'p')));
    if (!defines_routine || paren_depth_ != 0) return;
    if (equals_ignoring_case(word, "begin")) {
      ++begin_depth_;
    } else if (equals_ignoring_case(word, "case")) {
      if (begin_depth_ >= 1) ++begin_depth_;
    } else if (equals_ignoring_case(word, "end")) {
      if (begin_depth_ > 0) --begin_depth_;
    }
  }

  // COPY ... FROM stdin / TO stdout needs psql to stream the data.
  void track_copy(std::string_view word) {
    if (identifier_count_ == 0) {
      copy_ = equals_ignoring_case(word, "copy") ? Copy::kStatement : Copy::kNone;
      return;
    }
    if (copy_ == Copy::kNone) return;
    if ((copy_ == Copy::kAfterFrom && equals_ignoring_case(word, "stdin")) ||
        (copy_ == Copy::kAfterTo && equals_ignoring_case(word, "stdout"))) {
      refuse(statement_start_, copy_ == Copy::kAfterFrom ? "COPY ... FROM stdin" : "COPY ... TO stdout");
      return;
    }
    copy_ = Copy::kStatement;
    if (paren_depth_ == 0 && equals_ignoring_case(word, "from")) copy_ = Copy::kAfterFrom;
    if (paren_depth_ == 0 && equals_ignoring_case(word, "to")) copy_ = Copy::kAfterTo;
  }

  // A backslash outside quotes and comments is a psql meta-command: pg_dump's \restrict and
  // \unrestrict lines are left out, anything else stops the file.
  void scan_backslash() {
    std::size_t end = pos_ + 1;
    while (end < sql_.size() && (std::isalnum(static_cast<unsigned char>(sql_[end])) || sql_[end] == '_')) ++end;
    if (end == pos_ + 1 && end < sql_.size()) ++end;  // \; \: \\ and the like
    const std::string_view command = sql_.substr(pos_ + 1, end - pos_ - 1);
    if (command == "restrict" || command == "unrestrict") {
      result_.skipped_lines.push_back(line_at(pos_));
      while (pos_ < sql_.size() && sql_[pos_] != '\n') ++pos_;
      return;
    }
    refuse(pos_, "psql meta-command \\" + std::string(command));
  }

  void refuse(std::size_t offset, std::string what) {
    result_.psql_only = PsqlOnlySyntax{line_at(offset), std::move(what)};
  }

  // The statement starts at its first token: comments before it are not sent, and its line is the
  // line of that token.
  void token_seen() {
    if (!significant_) statement_start_ = pos_;
    significant_ = true;
  }

  void finish_statement(std::size_t end) {
    if (significant_) {
      std::size_t last = end;
      while (last > statement_start_ && is_space(sql_[last - 1])) --last;
      result_.statements.push_back(
          {sql_.substr(statement_start_, last - statement_start_), statement_start_, line_at(statement_start_)});
    }
    significant_ = false;
    identifier_count_ = 0;
    copy_ = Copy::kNone;
  }

  std::string_view sql_;
  std::size_t pos_ = 0;
  SqlSplit result_;
  // The statement being scanned.
  bool significant_ = false;
  std::size_t statement_start_ = 0;
  int paren_depth_ = 0;
  int begin_depth_ = 0;
  int identifier_count_ = 0;
  std::array<char, 4> identifiers_{};
  Copy copy_ = Copy::kNone;
  // Line counting.
  int line_ = 1;
  std::size_t counted_to_ = 0;
};

}  // namespace

SqlSplit split_sql(std::string_view sql) {
  return Scanner(sql).run();
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
