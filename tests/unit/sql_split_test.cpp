#include <doctest.h>

#include <string>
#include <vector>

#include "migrations/formats/sql_split.h"

using namespace pginit;

namespace {
std::vector<std::string> texts(std::string_view sql) {
  std::vector<std::string> out;
  for (const SqlStatement& statement : split_sql(sql).statements) out.emplace_back(statement.text);
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
  auto marked = split_sql("-- pginit:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);").statements;
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
  const char* procedure = "create or replace procedure p() language sql begin atomic insert into t values (1); end";
  CHECK(texts(std::string(procedure) + ";select 3") == Texts{procedure, "select 3"});
  CHECK(texts("BEGIN; SELECT 1; COMMIT;") == Texts{"BEGIN", "SELECT 1", "COMMIT"});
  CHECK(texts("CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2); SELECT 3").size() == 2);
}

TEST_CASE("sql_split: BEGIN and END count only in CREATE FUNCTION/PROCEDURE at depth 0, as in psql") {
  // pg_dump leaves a column named begin unquoted; it must not swallow the rest of the file.
  CHECK(texts("CREATE TABLE events (id bigint, begin timestamp, \"end\" timestamp);\n"
              "CREATE INDEX CONCURRENTLY events_begin ON events (begin);") ==
        Texts{"CREATE TABLE events (id bigint, begin timestamp, \"end\" timestamp)",
              "CREATE INDEX CONCURRENTLY events_begin ON events (begin)"});
  CHECK(texts("SELECT begin FROM events; SELECT 2") == Texts{"SELECT begin FROM events", "SELECT 2"});
  CHECK(texts("ALTER TABLE t ADD COLUMN begin int; SELECT CASE WHEN x THEN 1 END; SELECT 3").size() == 3);
  CHECK(texts("CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW EXECUTE FUNCTION f(); SELECT begin; SELECT 3").size() ==
        3);
  // inside the parameter list (depth 1) a parameter named begin is a name
  CHECK(texts("CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql RETURN 1; SELECT 2").size() == 2);
  // ... but in the body at depth 0 it opens a block, in psql too
  CHECK(texts("CREATE FUNCTION f(b int) RETURNS int LANGUAGE sql RETURN begin; SELECT 2").size() == 1);
  // a quoted "create" is not the keyword; a number with letters glued on is no identifier
  CHECK(texts("\"create\" FUNCTION x BEGIN; SELECT 2").size() == 2);
  CHECK(texts("CREATE FUNCTION f() 1begin; SELECT 2").size() == 2);
}

TEST_CASE("sql_split: the rest of psql's tokens") {
  // U&'' strings and U&"" identifiers hide semicolons; u& alone does not start one
  CHECK(texts("SELECT U&'d\\0061t;a', U&\"x;y\"; SELECT 2").size() == 2);
  CHECK(texts("SELECT u&x; SELECT 2").size() == 2);
  // B'', X'', N'' are strings
  CHECK(texts("SELECT B'1;0', X'1;F', N'a;b'; SELECT 2").size() == 2);
  // a number ends where psql's number token ends: 1$$ is 1 then a dollar quote
  CHECK(texts("SELECT 1$$;$$; SELECT 2") == Texts{"SELECT 1$$;$$", "SELECT 2"});
  // 1e'x' is the junk token 1e then a standard string, not an E'' string
  CHECK(texts("SELECT 1e'\\'; SELECT 2").size() == 2);
  // $1 and $1abc are parameters, $tag without a closing $ is a lone $
  CHECK(texts("SELECT $1$$;$$; SELECT 2") == Texts{"SELECT $1$$;$$", "SELECT 2"});
  CHECK(texts("SELECT $a; SELECT 2").size() == 2);
  // $ inside an identifier is part of it: no dollar quote starts there
  CHECK(texts("SELECT a$$b; SELECT $$c;$$").size() == 2);
  // a vertical tab is not whitespace to psql: it starts a statement
  CHECK(texts("\v;").size() == 1);
  // a closing quote followed by \r and another quote continues the literal, E'' escapes included
  CHECK(texts("SELECT E'a'\r'\\';'; SELECT 2").size() == 2);
  // psql reads line by line: across a \n the literal does not continue
  CHECK(texts("SELECT E'a'\n'\\';'; SELECT 2").size() == 2);
}

TEST_CASE("sql_split: psql meta-commands and COPY FROM stdin are refused with their line") {
  auto meta = split_sql("SELECT 1;\n\\set x 1\nSELECT :x;");
  REQUIRE(meta.psql_only);
  CHECK(meta.psql_only->line == 2);
  CHECK(meta.psql_only->what == "psql meta-command \\set");
  auto connect = split_sql("SELECT 1;\n  \\connect other\n");
  REQUIRE(connect.psql_only);
  CHECK(connect.psql_only->what == "psql meta-command \\connect");
  auto include = split_sql("\\i other.sql\n");
  REQUIRE(include.psql_only);
  CHECK(include.psql_only->line == 1);
  auto semicolon = split_sql("SELECT 1 \\; SELECT 2;");
  REQUIRE(semicolon.psql_only);
  CHECK(semicolon.psql_only->what == "psql meta-command \\;");
  auto copy = split_sql("CREATE TABLE t (x int);\n\nCOPY public.t (x) FROM stdin;\n1\n2\n\\.\n");
  REQUIRE(copy.psql_only);
  CHECK(copy.psql_only->line == 3);
  CHECK(copy.psql_only->what == "COPY ... FROM stdin");
  CHECK(split_sql("COPY t TO STDOUT;").psql_only);
  // not psql-only: backslashes in literals and comments, COPY from a server file, a table named stdin
  CHECK_FALSE(split_sql("SELECT E'\\n', '\\x'; -- \\set\n/* \\i */ SELECT $$\\$$;").psql_only);
  CHECK_FALSE(split_sql("COPY t FROM '/tmp/t.csv'; SELECT * FROM stdin;").psql_only);
  CHECK_FALSE(split_sql("COPY (SELECT * FROM stdin) TO '/tmp/x';").psql_only);
}

TEST_CASE("sql_split: pg_dump's \\restrict and \\unrestrict lines are left out") {
  auto dump = split_sql("\\restrict AbC123\nCREATE TABLE t (x int);\n\n\\unrestrict AbC123\n");
  CHECK_FALSE(dump.psql_only);
  REQUIRE(dump.statements.size() == 1);
  CHECK(dump.statements[0].text == "CREATE TABLE t (x int)");
  CHECK(dump.statements[0].line == 2);
  CHECK(dump.skipped_lines == std::vector<int>{1, 4});
}

TEST_CASE("sql_split: time is linear in the input") {
  // 200,000 one-line statements: quadratic line counting would take minutes here.
  std::string sql;
  for (int i = 0; i < 200000; ++i) sql += "SELECT 1;\n";
  auto split = split_sql(sql);
  REQUIRE(split.statements.size() == 200000);
  CHECK(split.statements.back().line == 200000);
}

TEST_CASE("sql_split: offsets and line numbers") {
  auto statements = split_sql("SELECT 1;\n\n  SELECT\n 2;\nSELECT 3").statements;
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
