#pragma once
// What the migrate phase checks before it sends anything: the files read, the plan held against
// --allow-changed and --strict-order, every pending file split, and what a pooler cannot run.
// A refusal here applies nothing of any file.
#include <string>
#include <vector>

#include "config.h"
#include "exit_code.h"
#include "migrations/formats/formats.h"
#include "migrations/formats/plan.h"
#include "result.h"

namespace pginit {

struct LoadedMigrations {
  MigrationFormat format = MigrationFormat::kPginit;
  std::vector<MigrationFile> files;  ///< in the order they apply
};

/// The migrations directory read (every file under it, hidden ones left out) in settings.format, or in
/// the format its names and markers show, each migration with its text, checksum and transaction mode.
Result<LoadedMigrations> load_migrations(const MigrationSettings& settings);

/// Checks the plan as the format's tool would (changed checksums, files older than the newest applied
/// one, applied ones gone), with --allow-changed / --strict-order; 0 or the exit code (logged).
int check_plan(const MigrationPlan& plan, const MigrationSettings& settings, MigrationFormat format);

/// Every pending file split before the first is sent: psql-only syntax in any stops them all.
Result<std::vector<std::vector<SqlStatement>>> split_pending(const MigrationPlan& plan);

/// Through a pooler, statements that leave state in the session cannot work (pooler_safety.h):
/// refused before anything of any file is sent. 0 or the exit code (logged).
int check_pooler_safety(const MigrationPlan& plan, const std::vector<std::vector<SqlStatement>>& statements);

}  // namespace pginit
