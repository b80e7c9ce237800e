#pragma once
// Which migration files exist, in which order, and which of them still need applying (pure).
#include <cstdint>
#include <string>
#include <vector>

#include "files.h"
#include "migrations/formats/sql_split.h"
#include "result.h"

namespace pginit {

/// A file named <version>_<name>.sql.
struct MigrationFile {
  std::int64_t version = 0;  ///< numeric value of the leading digits (at most 18 of them)
  std::string name;          ///< the part between '_' and ".sql"
  std::string filename;
  std::string content;          ///< filled by the caller after ordering
  std::string checksum;         ///< sha256 of content, hex
  bool no_transaction = false;  ///< first line "-- pginit:no-transaction"
};

/// A row of the history table.
struct AppliedMigration {
  std::int64_t version = 0;
  std::string name;
  std::string checksum;
};

/// Picks the migration files from a directory listing and orders them by version. Directories
/// and hidden files are ignored; any other file that is not <digits>_<name>.sql, and two files
/// with the same version, are config errors (78) naming the file(s).
Result<std::vector<MigrationFile>> order_migration_files(const std::vector<DirectoryEntry>& entries);

/// True when the file's first line is "-- pginit:no-transaction" (blanks around it allowed).
bool wants_no_transaction(std::string_view content);

/// `file` split into the statements pginit sends (views into file.content), or, when it holds
/// psql-only syntax (a meta-command such as \set or \i, COPY FROM stdin), a migration failure
/// (65) naming the file and the line, so that nothing of it is sent.
Result<SqlSplit> split_migration(const MigrationFile& file);

/// The verdict on every file against the history table.
struct MigrationPlan {
  struct Changed {
    const MigrationFile* file;
    std::string applied_checksum;
  };
  std::vector<const MigrationFile*> pending;       ///< in version order
  std::vector<const MigrationFile*> out_of_order;  ///< pending, but older than the newest applied
  std::vector<Changed> changed;                    ///< applied, with another checksum now
  std::vector<AppliedMigration> missing;           ///< applied, but no file any more
  std::vector<const MigrationFile*> applied;       ///< applied, unchanged
};

MigrationPlan plan_migrations(const std::vector<MigrationFile>& files, const std::vector<AppliedMigration>& history);

}  // namespace pginit
