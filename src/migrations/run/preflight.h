#pragma once
// What the migrate phase checks before it sends anything: the files read, the plan held against
// --allow-changed and --strict-order, every pending file split, and what a pooler cannot run.
// A refusal here applies nothing of any file.
#include <string>
#include <vector>

#include "config.h"
#include "exit_code.h"
#include "migrations/formats/plan.h"
#include "result.h"

namespace pginit {

/// The directory's migration files in order, each with its content, checksum and no-transaction flag.
Result<std::vector<MigrationFile>> load_migration_files(const std::string& directory);

/// Checks the plan against --allow-changed / --strict-order; 0 or the exit code (logged).
int check_plan(const MigrationPlan& plan, const MigrationSettings& settings);

/// Every pending file split before the first is sent: psql-only syntax in any stops them all.
Result<std::vector<std::vector<SqlStatement>>> split_pending(const MigrationPlan& plan);

/// Through a pooler, statements that leave state in the session cannot work (pooler_safety.h):
/// refused before anything of any file is sent. 0 or the exit code (logged).
int check_pooler_safety(const MigrationPlan& plan, const std::vector<std::vector<SqlStatement>>& statements);

}  // namespace pginit
