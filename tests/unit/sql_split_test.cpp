#include <doctest.h>

#include <string>
#include <vector>

#include "migrations/sql_split.h"

using namespace pginit;

namespace {
std::vector<std::string> texts(std::string_view sql) {
  std::vector<std::string> out;
  for (const SqlStatement& statement : split_sql(sql)) out.emplace_back(statement.text);
  return out;
}
using Texts = std::vector<std::string>;
}  // namespace

TEST_CASE("sql_split: plain statements") {
  CHECK(texts("SELECT 1; SELECT 2;") == Texts{"SELECT 1", "SELECT 2"});
  CHECK(texts("SELECT 1") == Texts{"SELECT 1"});
  CHECK(texts("  ;; \n ; ").empty());
}

TEST_CASE("sql_split: quotes hide semicolons") {
  CHECK(texts("INSERT INTO t VALUES ('a;b', 'it''s;'); SELECT 2") ==
        Texts{"INSERT INTO t VALUES ('a;b', 'it''s;')", "SELECT 2"});
  CHECK(texts("SELECT \"we;ird\"\"col\" FROM t; SELECT 2") == Texts{"SELECT \"we;ird\"\"col\" FROM t", "SELECT 2"});
  CHECK(texts("SELECT E'a\\';b'; SELECT 2") == Texts{"SELECT E'a\\';b'", "SELECT 2"});
  CHECK(texts("SELECT e'\\\\'; SELECT 2") == Texts{"SELECT e'\\\\'", "SELECT 2"});
  // not an E-string: "note" ends with e; backslash is literal in a standard string
  CHECK(texts("SELECT note'\\'; SELECT 2").size() == 2);
}

TEST_CASE("sql_split: dollar quoting") {
  const char* function = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM 1; RETURN 2; END; $$";
  CHECK(texts(std::string(function) + ";\nSELECT 1;") == Texts{function, "SELECT 1"});
  const char* tagged = "DO $body$ BEGIN RAISE NOTICE '$$;'; END $body$";
  CHECK(texts(std::string(tagged) + "; SELECT 1") == Texts{tagged, "SELECT 1"});
  CHECK(texts("SELECT $1; SELECT 2") == Texts{"SELECT $1", "SELECT 2"});  // a parameter, not a quote
  CHECK(texts("SELECT a$b$c FROM t; SELECT 2").size() == 2);              // $ inside an identifier
}

TEST_CASE("sql_split: comments") {
  CHECK(texts("SELECT 1; -- a; comment\nSELECT 2;") == Texts{"SELECT 1", "SELECT 2"});
  CHECK(texts("/* a; /* nested; */ still; */ SELECT 1; SELECT 2") == Texts{"SELECT 1", "SELECT 2"});
  CHECK(texts("SELECT /* inside; */ 1; SELECT 2") == Texts{"SELECT /* inside; */ 1", "SELECT 2"});
  auto marked = split_sql("-- pginit:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);");
  REQUIRE(marked.size() == 1);
  CHECK(marked[0].line == 2);
  CHECK(marked[0].text.starts_with("CREATE INDEX"));
  CHECK(texts("-- only a comment;\n").empty());
  CHECK(texts("SELECT 1; /* trailing */").size() == 1);
}

TEST_CASE("sql_split: BEGIN ATOMIC and CASE bodies, parentheses") {
  const char* atomic =
      "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END";
  CHECK(texts(std::string(atomic) + "; SELECT 3") == Texts{atomic, "SELECT 3"});
  CHECK(texts("BEGIN; SELECT 1; COMMIT;") == Texts{"BEGIN", "SELECT 1", "COMMIT"});
  CHECK(texts("CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2); SELECT 3").size() == 2);
}

TEST_CASE("sql_split: offsets and line numbers") {
  auto statements = split_sql("SELECT 1;\n\n  SELECT\n 2;\nSELECT 3");
  REQUIRE(statements.size() == 3);
  CHECK(statements[0].line == 1);
  CHECK(statements[1].line == 3);
  CHECK(statements[1].offset == 13);
  CHECK(statements[2].line == 5);
}

TEST_CASE("sql_split: unterminated quotes extend to the end without crashing") {
  CHECK(texts("SELECT 'open; SELECT 2").size() == 1);
  CHECK(texts("SELECT $$open; SELECT 2").size() == 1);
  CHECK(texts("SELECT E'\\").size() == 1);
  CHECK(texts("/* open").empty());
}

TEST_CASE("sql_split: position to line") {
  CHECK(line_of_position("SELECT\n  1/0", 10) == 2);
  CHECK(line_of_position("SELECT 1", 3) == 1);
  CHECK(line_of_position("SELECT 'é'\n, x", 13) == 2);  // é is one character, two bytes
}
