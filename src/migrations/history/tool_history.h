#pragma once
// Each format's history table, kept as its tool keeps it (pure SQL text, and reading its rows): what
// the tool itself sees after pginit has migrated, and what pginit reads after the tool. pginit's own
// format is one of them; pginit's bookkeeping (the lease, the fingerprints) stays in its own tables.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "migrations/formats/formats.h"
#include "migrations/formats/migration_file.h"

namespace pginit {

/// The history table's place; an empty schema is the session's current_schema(), found once connected.
struct ToolTable {
  std::string schema;
  std::string name;
  std::string error;  ///< the table's setting cannot be read (a configuration error): why
};

/// Where `format`'s history table is: `option` (--history-table [SCHEMA.]NAME) when given, else where
/// the tool's own settings put it (GOOSE_TABLE, DBMATE_MIGRATIONS_TABLE, FLYWAY_TABLE with
/// FLYWAY_DEFAULT_SCHEMA or the first of FLYWAY_SCHEMAS, golang-migrate's x-migrations-table from the
/// DSN: tool_url.h), else its default name; pginit's own format:
/// `pginit_table` (--migrations-table). Without a schema: the session's current_schema().
ToolTable tool_table_for(MigrationFormat format, std::string_view option, std::string_view pginit_table,
                         const std::map<std::string, std::string>& environment);

/// What the history says: what it counts as applied, and a failure state the tool itself refuses to go
/// past (golang-migrate's dirty version, Flyway's failed migration, Prisma's unfinished one).
struct HistoryState {
  std::vector<AppliedMigration> applied;
  std::optional<std::string> refusal;  ///< the tool's own words, and which of its commands clears it
};

using HistoryRow = std::vector<std::optional<std::string>>;

class ToolHistory {
 public:
  ToolHistory(MigrationFormat format, ToolTable table) : format_(format), table_(std::move(table)) {}

  /// The tool's own default name: schema_migrations, goose_db_version, flyway_schema_history,
  /// _prisma_migrations (pginit: pginit_migrations).
  static std::string_view default_name(MigrationFormat format);

  MigrationFormat format() const { return format_; }
  const ToolTable& table() const { return table_; }
  /// "schema"."name".
  std::string quoted() const;

  /// The table as the tool creates it, if it is not there (goose's first row, version 0, with it).
  std::string create_sql() const;
  /// Its rows, for read().
  std::string select_sql() const;
  /// What the rows say, against the directory's `files` (golang-migrate keeps one row, the current
  /// version: every file up to it counts as applied).
  HistoryState read(const std::vector<HistoryRow>& rows, const std::vector<MigrationFile>& files) const;

  /// Before a file that runs without a transaction, in a transaction of its own ("" for none):
  /// golang-migrate's dirty version, Prisma's started row.
  std::string before_sql(const MigrationFile& file) const;
  /// The file's history row: in the file's transaction, or after the file when it runs without one.
  std::string record_sql(const MigrationFile& file, std::int64_t duration_ms) const;
  /// After a file without a transaction failed ("" for none): Prisma's logs, Flyway's failed row.
  std::string failure_sql(const MigrationFile& file, std::string_view error) const;

  /// The advisory lock keys the tool takes (golang-migrate's, goose's session locker's, Flyway's,
  /// Prisma's), for a database named `database`: pginit holds them too while it migrates, so that the
  /// tool, run beside it, waits for it.
  std::vector<std::int64_t> lock_keys(std::string_view database) const;

 private:
  std::string set_golang_migrate_version(std::int64_t version, bool dirty) const;

  MigrationFormat format_;
  ToolTable table_;
};

/// golang-migrate's lock key: crc32(schema + "\0" + table + "\0" + database) * 1486364155, in 32 bits.
std::int64_t golang_migrate_lock_key(std::string_view schema, std::string_view table, std::string_view database);
/// Flyway's: 0x466C79776179 ("Flyway") + Java's String.hashCode of "schema"."table".
std::int64_t flyway_lock_key(std::string_view quoted_table);

}  // namespace pginit
