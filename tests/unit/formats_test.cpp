#include <doctest.h>

#include "migrations/formats/dbmate_format.h"
#include "migrations/formats/flyway_format.h"
#include "migrations/formats/formats.h"
#include "migrations/formats/golang_migrate_format.h"
#include "migrations/formats/goose_format.h"
#include "migrations/formats/plan.h"
#include "migrations/formats/prisma_format.h"
#include "migrations/formats/transactions.h"
#include "migrations/history/tool_history.h"

using namespace pginit;

namespace {

std::vector<std::string_view> statements_of(const MigrationFile& file) {
  std::vector<std::string_view> texts;
  const Result<SqlSplit> split = split_migration(file);
  for (const SqlStatement& statement : split->statements) texts.push_back(statement.text);
  return texts;
}

}  // namespace

TEST_CASE("formats: a directory is recognised by names and markers; two formats at once are refused") {
  CHECK(*detect_format({{"0001_a.sql", "CREATE TABLE a (x int);"}}) == MigrationFormat::kPginit);
  CHECK(*detect_format({}) == MigrationFormat::kPginit);
  CHECK(*detect_format({{"1_a.up.sql", ""}, {"1_a.down.sql", ""}}) == MigrationFormat::kGolangMigrate);
  CHECK(*detect_format({{"1_a.sql", "-- +goose Up\nSELECT 1;"}}) == MigrationFormat::kGoose);
  CHECK(*detect_format({{"1_a.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\n"}}) == MigrationFormat::kDbmate);
  CHECK(*detect_format({{"V1__a.sql", ""}, {"sub/R__v.sql", ""}}) == MigrationFormat::kFlyway);
  CHECK(*detect_format({{"20230518_init/migration.sql", ""}, {"migration_lock.toml", ""}}) == MigrationFormat::kPrisma);
  auto two = detect_format({{"1_a.up.sql", ""}, {"2_b.sql", "SELECT 1;"}});
  REQUIRE_FALSE(two.ok());
  CHECK(two.failure().code == ExitCode::kConfig);
  CHECK(two.error().find("golang-migrate (1_a.up.sql is a golang-migrate .up/.down file), pginit (2_b.sql is a "
                         "plain <version>_<name>.sql)") != std::string::npos);
  CHECK(*parse_migrations_format("auto") == std::nullopt);
  CHECK(**parse_migrations_format("flyway") == MigrationFormat::kFlyway);
  CHECK(parse_migrations_format("liquibase").failure().code == ExitCode::kUsage);
}

TEST_CASE("golang-migrate: up files in numeric order, down files never run, duplicates refused") {
  auto files = read_golang_migrate_migrations({{"10_c.up.sql", "SELECT 10;"},
                                               {"9_b.up.sql", "SELECT 9;"},
                                               {"9_b.down.sql", "DROP 9;"},
                                               {"11_only_down.down.sql", "DROP 11;"},
                                               {"README.md", "ignored"},
                                               {"1_a.up.sql", "CREATE INDEX CONCURRENTLY i ON t (x);"}});
  REQUIRE(files.ok());
  REQUIRE(files->size() == 4);
  CHECK((*files)[0].id == "1");
  CHECK((*files)[0].no_transaction);  // CREATE INDEX CONCURRENTLY: run as golang-migrate runs it
  CHECK((*files)[1].id == "9");
  CHECK_FALSE((*files)[1].no_transaction);  // one query, in a transaction with its version row
  CHECK(statements_of((*files)[1]) == std::vector<std::string_view>{"SELECT 9;"});
  CHECK((*files)[2].id == "10");
  CHECK((*files)[3].id == "11");
  CHECK((*files)[3].sections.empty());  // only a down file: its version is written, nothing runs
  auto duplicate = read_golang_migrate_migrations({{"1_a.up.sql", ""}, {"01_b.up.sql", ""}});
  REQUIRE_FALSE(duplicate.ok());
  CHECK(duplicate.error().find("same version 1 and direction") != std::string::npos);
}

TEST_CASE("goose: goose's own splitter, StatementBegin blocks, NO TRANSACTION, and the Down never run") {
  const std::string text =
      "-- +goose NO TRANSACTION\n"
      "-- a comment before Up\n"
      "-- +goose Up\n"
      "-- +goose StatementBegin\n"
      "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n"
      "-- +goose StatementEnd\n"
      "\n"
      "-- dropped: before a statement\n"
      "CREATE TABLE t (x int); -- a comment; after it\n"
      "INSERT INTO t\n"
      "  VALUES (1);\n"
      "-- +goose Down\n"
      "DROP TABLE t;\n";
  auto files = read_goose_migrations({{"00002_t.sql", text}}, {});
  REQUIRE(files.ok());
  const MigrationFile& file = (*files)[0];
  CHECK(file.id == "2");
  CHECK(file.no_transaction);
  CHECK(statements_of(file) == std::vector<std::string_view>{
                                   "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;",
                                   "CREATE TABLE t (x int); -- a comment; after it", "INSERT INTO t\n  VALUES (1);"});
  CHECK(file.content.find("DROP TABLE") == std::string::npos);
}

TEST_CASE("goose: what goose's parser refuses is refused, naming the file and line") {
  auto refused = [](std::string_view text) {
    auto files = read_goose_migrations({{"00001_a.sql", std::string(text)}}, {});
    REQUIRE_FALSE(files.ok());
    CHECK(files.failure().code == ExitCode::kConfig);
    return files.error();
  };
  CHECK(refused("SELECT 1;\n-- +goose Up\n") == "goose migration 00001_a.sql line 1: SQL before -- +goose Up");
  CHECK(refused("-- +goose Up\nSELECT 1\n") ==
        "goose migration 00001_a.sql line 1: the last statement does not end (missing semicolon?)");
  CHECK(refused("-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n") ==
        "goose migration 00001_a.sql line 2: -- +goose StatementBegin without StatementEnd");
  CHECK(refused("-- +goose Down\n") == "goose migration 00001_a.sql line 1: -- +goose Down before -- +goose Up");
  CHECK(refused("-- +goose Up\n-- +goose Sideways\n").find("is not supported") != std::string::npos);
  CHECK(refused("CREATE TABLE t (x int);\n") == "goose migration 00001_a.sql line 1: SQL before -- +goose Up");
  auto go = read_goose_migrations({{"00003_x.go", "package m"}}, {});
  CHECK(go.error().find("is a Go migration") != std::string::npos);
}

TEST_CASE("goose: ENVSUB expands the environment between ON and OFF only") {
  const std::string text =
      "-- +goose Up\n-- +goose ENVSUB ON\nCREATE ROLE ${ROLE:-app} PASSWORD '$SECRET';\n-- +goose ENVSUB OFF\n"
      "SELECT '$SECRET';\n";
  auto files = read_goose_migrations({{"1_r.sql", text}}, {{"SECRET", "s3"}});
  REQUIRE(files.ok());
  CHECK(statements_of((*files)[0]) ==
        std::vector<std::string_view>{"CREATE ROLE app PASSWORD 's3';", "SELECT '$SECRET';"});
  auto missing =
      read_goose_migrations({{"1_r.sql", "-- +goose Up\n-- +goose ENVSUB ON\nSELECT ${X?is needed};\n"}}, {});
  CHECK(missing.error() == "goose migration 1_r.sql line 3: ENVSUB: ${X}: is needed");
}

TEST_CASE("dbmate: versions are strings ordered by file name, up sections whole, never the down ones") {
  auto files =
      read_dbmate_migrations({{"10000000000000_demote.sql", "-- migrate:up\nSELECT 2;\n-- migrate:down\nSELECT -2;\n"},
                              {"100000022_test.sql",
                               "-- migrate:up transaction:false\nSELECT 1;\n"
                               "-- migrate:down\nSELECT -1;\n"},
                              {"README.md", "not a migration"}});
  REQUIRE(files.ok());
  REQUIRE(files->size() == 2);
  CHECK((*files)[0].id == "10000000000000");  // by string: "10000000000000" < "100000022"
  CHECK((*files)[1].id == "100000022");
  CHECK((*files)[1].no_transaction);
  CHECK(statements_of((*files)[0]) == std::vector<std::string_view>{"-- migrate:up\nSELECT 2;\n"});
  auto refused = read_dbmate_migrations({{"1_a.sql", "SELECT 0;\n-- migrate:up\nSELECT 1;\n-- migrate:down\n"}});
  CHECK(refused.error() == "dbmate migration 1_a.sql line 1: SQL before the first -- migrate:up");
  auto duplicate = read_dbmate_migrations(
      {{"1_a.sql", "-- migrate:up\n-- migrate:down\n"}, {"1_b.sql", "-- migrate:up\n-- migrate:down\n"}});
  CHECK(duplicate.error().find("have the same version 1") != std::string::npos);
}

TEST_CASE("flyway: versions compare part by part, trailing zeros do not count") {
  CHECK(*canonical_flyway_version("1.0") == "1");
  CHECK(*canonical_flyway_version("1_01") == "1.1");
  CHECK(*canonical_flyway_version("001") == "1");
  CHECK_FALSE(canonical_flyway_version("1.a"));
  CHECK(compare_flyway_versions("1.10", "1.9") > 0);
  CHECK(compare_flyway_versions("1", "1.0.0") == 0);
  CHECK(compare_flyway_versions("2", "10") < 0);
  CHECK(compare_flyway_versions("123456789012345678901234567890", "123456789012345678901234567891") < 0);
}

TEST_CASE("flyway: the checksum is Flyway's CRC32 over lines") {
  // migration-formats.md's values, from Flyway's ChecksumCalculator.
  CHECK(flyway_checksum("CREATE TABLE a (id int);\n") == -623083431);
  CHECK(flyway_checksum("CREATE TABLE a (id int);\r\n") == -623083431);
  CHECK(flyway_checksum("\xEF\xBB\xBF"
                        "CREATE TABLE a (id int);") == -623083431);
  CHECK(flyway_checksum("CREATE TABLE a (id int); \n") == -83756395);
  CHECK(flyway_checksum("CREATE TABLE a\n(id int);\n") == 1032505041);
  CHECK(flyway_checksum("CREATE TABLE a(id int);\n\n\n") == 1032505041);
}

TEST_CASE("flyway: versioned in order, repeatables after them; what pginit cannot run is refused") {
  FormatOptions options;
  options.placeholders["Schema"] = "app";
  auto files = read_flyway_migrations({{"V1.10__b.sql", "SELECT 10;"},
                                       {"sub/V1_9__a_b.sql", "SELECT 9;"},
                                       {"R__view.sql", "CREATE VIEW ${schema}.v AS SELECT 1;"},
                                       {"V2__index.sql", "CREATE INDEX CONCURRENTLY i ON t (x);"},
                                       {"V57__readme.md", "not SQL"}},
                                      options);
  REQUIRE(files.ok());
  REQUIRE(files->size() == 4);
  CHECK((*files)[0].filename == "sub/V1_9__a_b.sql");
  CHECK((*files)[0].name == "a b");
  CHECK((*files)[0].written_as == "1.9");
  CHECK((*files)[1].id == "1.10");
  CHECK((*files)[2].no_transaction);
  CHECK((*files)[3].repeatable);
  CHECK((*files)[3].content == "CREATE VIEW app.v AS SELECT 1;");
  CHECK((*files)[3].checksum == std::to_string(flyway_checksum("CREATE VIEW app.v AS SELECT 1;")));
  for (const char* name : {"U1__undo.sql", "B1__baseline.sql", "afterMigrate.sql", "V3__x.java"}) {
    CAPTURE(name);
    auto refused = read_flyway_migrations({{"V1__a.sql", ""}, {name, "SELECT 1;"}}, {});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.failure().code == ExitCode::kConfig);
  }
  auto placeholder = read_flyway_migrations({{"V1__a.sql", "SELECT ${missing};"}}, {});
  CHECK(placeholder.error().find("no value for placeholder ${missing}") != std::string::npos);
  auto mixed = read_flyway_migrations({{"V1__a.sql", "SELECT 1;\nVACUUM;"}}, {});
  CHECK(mixed.error().find("mixes statements") != std::string::npos);
}

TEST_CASE("prisma: directory names in JavaScript's localeCompare order") {
  // node -e 'console.log([...].sort((a, b) => a.localeCompare(b)))'
  CHECK(prisma_order("a B", "a_b") < 0);
  CHECK(prisma_order("a_b", "A_b") < 0);
  CHECK(prisma_order("A_b", "b_x") < 0);
  CHECK(prisma_order("20240126184148_new_models", "20240126184148_new_models copy") < 0);
  CHECK(prisma_order("a-b", "a.b") < 0);
  CHECK(prisma_order("a1", "aB") < 0);
  auto files = read_prisma_migrations({{"2_b/migration.sql", "SELECT 2;"},
                                       {"1_a/migration.sql", "SELECT 1;"},
                                       {"migration_lock.toml", "provider = \"postgresql\""}});
  REQUIRE(files.ok());
  CHECK((*files)[0].id == "1_a");
  CHECK((*files)[0].checksum == "17db4fd369edb9244b9f91d9aeed145c3d04ad8ba6e95d06247f07a63527d11a");
  CHECK(read_prisma_migrations({{"3_c/notes.txt", ""}}).error().find("has no migration.sql") != std::string::npos);
  CHECK(read_prisma_migrations({{"migration_lock.toml", "provider = \"mysql\""}}).failure().code == ExitCode::kConfig);
}

TEST_CASE("transactions: what a tool's one-query file may run in") {
  CHECK(can_run_in_a_transaction("CREATE TABLE a (x int); INSERT INTO a VALUES (1);"));
  CHECK_FALSE(can_run_in_a_transaction("BEGIN;\nCREATE TABLE a (x int);\nCOMMIT;"));
  CHECK_FALSE(can_run_in_a_transaction("CREATE UNIQUE INDEX CONCURRENTLY i ON t (x);"));
  CHECK(can_run_in_a_transaction("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;"));
  CHECK(runs_outside_a_transaction("vacuum analyze t"));
  CHECK_FALSE(runs_outside_a_transaction("VACUUMED_TABLE"));
}

TEST_CASE("tool history: the tools' own lock keys, their tables' defaults, and where a table is") {
  CHECK(golang_migrate_lock_key("public", "schema_migrations", "/mydb") == 616192132);
  CHECK(golang_migrate_lock_key("public", "schema_migrations", "mydb") == 2103762914);
  CHECK(flyway_lock_key("\"public\".\"flyway_schema_history\"") == 77433833903597);
  CHECK(ToolHistory(MigrationFormat::kPrisma, {"public", "_prisma_migrations"}).lock_keys("db") ==
        std::vector<std::int64_t>{72707369});
  CHECK(ToolHistory(MigrationFormat::kGoose, {"public", "goose_db_version"}).lock_keys("db") ==
        std::vector<std::int64_t>{4097083626});
  CHECK(ToolHistory(MigrationFormat::kDbmate, {"public", "schema_migrations"}).lock_keys("db").empty());
  const std::map<std::string, std::string> environment{{"GOOSE_TABLE", "ops._migrations"},
                                                       {"FLYWAY_SCHEMAS", "app,other"}};
  CHECK(tool_table_for(MigrationFormat::kGoose, "", "public.pginit_migrations", environment).schema == "ops");
  CHECK(tool_table_for(MigrationFormat::kFlyway, "", "public.pginit_migrations", environment).schema == "app");
  CHECK(tool_table_for(MigrationFormat::kPrisma, "", "public.pginit_migrations", {}).name == "_prisma_migrations");
  CHECK(tool_table_for(MigrationFormat::kDbmate, "x.y", "public.pginit_migrations", {}).name == "y");
}

TEST_CASE("tool history: golang-migrate's table from its URL's x-migrations-table, read as its driver reads it") {
  auto table = [](std::map<std::string, std::string> parameters) {
    return tool_table_for(MigrationFormat::kGolangMigrate, "", "public.pginit_migrations", parameters);
  };
  const ToolTable plain = table({{"x-migrations-table", "ops.migrations"}});  // one name, dot and all
  CHECK((plain.schema.empty() && plain.name == "ops.migrations" && plain.error.empty()));
  const ToolTable quoted =
      table({{"x-migrations-table", "\"ops\".\"migrations\""}, {"x-migrations-table-quoted", "1"}});
  CHECK((quoted.schema == "ops" && quoted.name == "migrations"));
  CHECK(table({{"x-migrations-table", "\"migrations\""}, {"x-migrations-table-quoted", "true"}}).name == "migrations");
  CHECK(table({{"x-migrations-table", "ops.migrations"}, {"x-migrations-table-quoted", "true"}})
            .error.starts_with("x-migrations-table must be quoted"));
  CHECK(table({}).name == "schema_migrations");
  // --history-table wins, as it does for every tool.
  CHECK(
      tool_table_for(MigrationFormat::kGolangMigrate, "a.b", "public.pginit_migrations", {{"x-migrations-table", "c"}})
          .name == "b");
}

TEST_CASE("tool history: failure states read as the tool reads them") {
  const std::vector<MigrationFile> files{{.id = "1", .version = 1}, {.id = "2", .version = 2}};
  const ToolHistory golang(MigrationFormat::kGolangMigrate, {"public", "schema_migrations"});
  CHECK(golang.read({{"2", "t"}}, files).refusal->starts_with("Dirty database version 2. Fix and force version."));
  CHECK(golang.read({{"1", "f"}}, files).applied.size() == 1);  // every file up to the current version
  CHECK(golang.read({{"5", "f"}}, files).refusal->starts_with("no migration found for version 5"));
  const ToolHistory goose(MigrationFormat::kGoose, {"public", "goose_db_version"});
  CHECK(goose.read({{"0", "t"}, {"1", "t"}, {"2", "t"}, {"2", "f"}}, files).applied.size() == 1);
  const ToolHistory prisma(MigrationFormat::kPrisma, {"public", "_prisma_migrations"});
  CHECK(prisma.read({{"1_a", "f", "f", "2026-01-01"}}, {})
            .refusal->find("the `1_a` migration started at 2026-01-01 failed") != std::string::npos);
  CHECK(prisma.read({{"1_a", "f", "t", "2026-01-01"}}, {}).applied.empty());  // rolled back: runs again
}
