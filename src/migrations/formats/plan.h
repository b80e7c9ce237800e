#pragma once
// Which of a directory's migrations still need applying, against the history, and the statements of
// each (pure): the same for every format once it has read its files into MigrationFile.
#include <string>
#include <vector>

#include "migrations/formats/migration_file.h"
#include "migrations/formats/sql_split.h"
#include "result.h"

namespace pginit {

/// `file` split into the statements pginit sends (views into file.content): where psql cuts, or the
/// file's sections whole (kSections). Split where psql cuts, psql-only syntax (a meta-command such as
/// \set or \i, COPY FROM stdin) is a migration failure (65) naming the file and the line, so that
/// nothing of it is sent.
Result<SqlSplit> split_migration(const MigrationFile& file);

/// The verdict on every file against the history table.
struct MigrationPlan {
  struct Changed {
    const MigrationFile* file;
    std::string applied_checksum;
  };
  std::vector<const MigrationFile*> pending;       ///< in the files' order (repeatables that changed too)
  std::vector<const MigrationFile*> out_of_order;  ///< pending, but before the last applied one in that order
  std::vector<Changed> changed;                    ///< applied, with another checksum now (never repeatables)
  std::vector<AppliedMigration> missing;           ///< applied, but no file any more
  std::vector<const MigrationFile*> applied;       ///< applied, unchanged
};

/// `files` in the order they apply; `history` in the order it was written (a later row of an id wins:
/// a repeatable applied again). A checksum counts only where both sides have one.
MigrationPlan plan_migrations(const std::vector<MigrationFile>& files, const std::vector<AppliedMigration>& history);

}  // namespace pginit
