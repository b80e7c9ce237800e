#pragma once
// --dry-run and --status: what the plan says, printed on stdout.
#include <vector>

#include "migrations/formats/plan.h"

namespace pginit {

/// "pending  0002_b.sql  (no transaction)" per pending file, or "no pending migrations".
void print_dry_run(const MigrationPlan& plan);

/// A table of every file (applied / pending / changed) and every applied version whose file is gone.
void print_status(const MigrationPlan& plan, const std::vector<MigrationFile>& files);

}  // namespace pginit
