#include <doctest.h>

#include "migrations/formats/pginit_format.h"
#include "migrations/formats/plan.h"
#include "migrations/history/history.h"
#include "migrations/run/fingerprint.h"

using namespace pginit;

namespace {
std::vector<SourceFile> listing(std::initializer_list<const char*> names) {
  std::vector<SourceFile> files;
  for (const char* name : names) files.push_back({name, "SELECT 1;\n"});
  return files;
}

std::vector<MigrationFile> with_checksums(std::vector<MigrationFile> files) {
  for (MigrationFile& file : files) file.checksum = "sum-" + file.filename;
  return files;
}
}  // namespace

TEST_CASE("plan: files are ordered numerically, not by name") {
  auto files = read_pginit_migrations(listing({"10_c.sql", "9_b.sql", "0001_a.sql", "20261125093000_d.sql"}));
  REQUIRE(files.ok());
  REQUIRE(files->size() == 4);
  CHECK((*files)[0].filename == "0001_a.sql");
  CHECK((*files)[0].version == 1);
  CHECK((*files)[0].id == "1");
  CHECK((*files)[0].name == "a");
  CHECK((*files)[1].version == 9);
  CHECK((*files)[2].version == 10);
  CHECK((*files)[3].version == 20261125093000);
}

TEST_CASE("plan: files in subdirectories and hidden files are ignored") {
  auto files = read_pginit_migrations(listing({"0001_a.sql", ".gitkeep", "archive/0002_b.sql"}));
  REQUIRE(files.ok());
  CHECK(files->size() == 1);
}

TEST_CASE("plan: a file not matching the pattern is a config error naming it") {
  for (const char* bad : {"README.md", "abc_x.sql", "0001.sql", "0001_.sql", "0001_x.txt", "0001-x.sql"}) {
    CAPTURE(bad);
    auto files = read_pginit_migrations(listing({"0001_a.sql", bad}));
    REQUIRE_FALSE(files.ok());
    CHECK(files.failure().code == ExitCode::kConfig);
    CHECK(files.error().find(bad) != std::string::npos);
  }
}

TEST_CASE("plan: duplicate versions are a config error naming both files") {
  auto files = read_pginit_migrations(listing({"0002_a.sql", "2_b.sql"}));
  REQUIRE_FALSE(files.ok());
  CHECK(files.failure().code == ExitCode::kConfig);
  CHECK(files.error().find("0002_a.sql") != std::string::npos);
  CHECK(files.error().find("2_b.sql") != std::string::npos);
}

TEST_CASE("plan: too many digits") {
  CHECK_FALSE(read_pginit_migrations(listing({"1234567890123456789_x.sql"})).ok());
}

TEST_CASE("plan: a pginit file with another tool's markers is never run as plain SQL (its down section would run)") {
  const std::vector<SourceFile> dbmate{{"0001_users.sql",
                                        "-- migrate:up\nCREATE TABLE users (id int);\n\n"
                                        "-- migrate:down\nDROP TABLE users;\n"}};
  auto refused = read_pginit_migrations(dbmate);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.failure().code == ExitCode::kConfig);
  CHECK(refused.error() ==
        "migration file \"0001_users.sql\" has dbmate's \"-- migrate:up\" / \"-- migrate:down\" markers: it is not run "
        "as "
        "plain SQL (its down section would run too); read the directory in that tool's format (--migrations-format "
        "auto)");
  const std::vector<SourceFile> goose{{"0001_users.sql", "-- +goose Up\nCREATE TABLE users (id int);\n"}};
  CHECK(read_pginit_migrations(goose).error().find("goose's") != std::string::npos);
}

TEST_CASE("plan: pending, applied, changed, out of order and missing") {
  auto files = with_checksums(*read_pginit_migrations(listing({"1_a.sql", "2_b.sql", "3_c.sql", "5_e.sql"})));
  std::vector<AppliedMigration> history{{"1", "a", "sum-1_a.sql"}, {"3", "c", "old-sum"}, {"4", "d", "sum-4"}};
  MigrationPlan plan = plan_migrations(files, history);
  REQUIRE(plan.pending.size() == 2);
  CHECK(plan.pending[0]->filename == "2_b.sql");
  CHECK(plan.pending[1]->filename == "5_e.sql");
  REQUIRE(plan.out_of_order.size() == 1);
  CHECK(plan.out_of_order[0]->filename == "2_b.sql");
  REQUIRE(plan.changed.size() == 1);
  CHECK(plan.changed[0].file->filename == "3_c.sql");
  CHECK(plan.changed[0].applied_checksum == "old-sum");
  REQUIRE(plan.missing.size() == 1);
  CHECK(plan.missing[0].id == "4");
  REQUIRE(plan.applied.size() == 1);
}

TEST_CASE("plan: nothing applied means everything pending, in order") {
  auto files = with_checksums(*read_pginit_migrations(listing({"2_b.sql", "1_a.sql"})));
  MigrationPlan plan = plan_migrations(files, {});
  REQUIRE(plan.pending.size() == 2);
  CHECK(plan.pending[0]->version == 1);
  CHECK(plan.out_of_order.empty());
}

TEST_CASE("plan: the no-transaction marker is the first line only") {
  CHECK(wants_no_transaction("-- pginit:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);"));
  CHECK(wants_no_transaction("  -- pginit:no-transaction  \r\nSELECT 1;"));
  CHECK_FALSE(wants_no_transaction("SELECT 1;\n-- pginit:no-transaction\n"));
  CHECK_FALSE(wants_no_transaction("-- pginit:no-transactions\n"));
}

TEST_CASE("plan: psql-only syntax fails the file (65) naming it and the line") {
  MigrationFile file{.id = "2",
                     .version = 2,
                     .name = "seed",
                     .filename = "0002_seed.sql",
                     .content = "CREATE TABLE t (x int);\n\\set ON_ERROR_STOP on\nINSERT INTO t VALUES (1);\n"};
  auto split = split_migration(file);
  REQUIRE_FALSE(split.ok());
  CHECK(split.failure().code == ExitCode::kMigrationFailed);
  CHECK(split.error() ==
        "migration 0002_seed.sql line 2: psql meta-command \\set is psql-only syntax, and pginit sends plain SQL "
        "itself; remove it, or run the file with psql through --migrate-cmd");
  file.content = "\\restrict k\nCREATE TABLE t (x int);\n\\unrestrict k\n";
  auto dump = split_migration(file);
  REQUIRE(dump.ok());
  CHECK(dump->statements.size() == 1);
  CHECK(dump->skipped_lines.size() == 2);
}

TEST_CASE("history: quoted names and SQL") {
  HistoryTable table = HistoryTable::from("ops.history");
  CHECK(table.quoted() == "\"ops\".\"history\"");
  CHECK(table.quoted_fingerprints() == "\"ops\".\"history_fingerprints\"");
  CHECK(HistoryTable::from("plain").quoted() == "\"public\".\"plain\"");
  CHECK(table.insert_sql(12, "add_o'brien", "ab12", 340) ==
        "INSERT INTO \"ops\".\"history\" (version, name, checksum, duration_ms) VALUES (12, E'add_o''brien', E'ab12', "
        "340)");
}

TEST_CASE("history: literals mean the same with standard_conforming_strings on or off") {
  CHECK(quote_literal("plain") == "E'plain'");
  CHECK(quote_literal("it's") == "E'it''s'");
  CHECK(quote_literal("back\\slash") == "E'back\\\\slash'");
  CHECK(quote_literal("") == "E''");
}

TEST_CASE("history: the default lock key depends on database and table") {
  const auto key = default_lock_key("app", "public.pginit_migrations");
  CHECK(key == default_lock_key("app", "public.pginit_migrations"));
  CHECK(key != default_lock_key("other", "public.pginit_migrations"));
  CHECK(key != default_lock_key("app", "public.other"));
  auto [classid, objid] = lock_key_parts(-1);
  CHECK(classid == 0xffffffffu);
  CHECK(objid == 0xffffffffu);
  auto parts = lock_key_parts(0x0000000100000002);
  CHECK(parts.first == 1u);
  CHECK(parts.second == 2u);
}

TEST_CASE("fingerprint: order-independent, content- and path-sensitive") {
  std::string base = fingerprint_of({{"a/1.py", "x"}, {"b/2.py", "y"}});
  CHECK(base == fingerprint_of({{"b/2.py", "y"}, {"a/1.py", "x"}}));
  CHECK(base != fingerprint_of({{"a/1.py", "x"}, {"b/2.py", "z"}}));
  CHECK(base != fingerprint_of({{"a/1.py", "x"}, {"b/3.py", "y"}}));
  // path/content boundaries cannot be shifted to forge the same hash
  CHECK(fingerprint_of({{"ab", "c"}}) != fingerprint_of({{"a", "bc"}}));
}

// Replicas on amd64, arm64 and s390x (big-endian) must agree: the expected values are Python's
// hashlib over the same bytes, not this code's output, so a byte-order slip fails on any architecture.
TEST_CASE("every architecture: the lock key and the fingerprint are hashlib's") {
  // int.from_bytes(sha256(b"pginit-migrations\0app\0public.pginit_migrations").digest()[:8], "big", signed=True)
  CHECK(default_lock_key("app", "public.pginit_migrations") == -1680078774130911311);
  // sha256 over sorted (path, "\0", len, "\0", content)
  CHECK(fingerprint_of({{"b/2.py", "y"}, {"a/1.py", std::string(100, 'x')}}) ==
        "130a21398975389eaf4e2a281194dc4755cc93cfa70de542503273f74f18f9d1");
}
