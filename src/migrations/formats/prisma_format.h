#pragma once
// Prisma Migrate's layout (pure): every subdirectory DIR/<name>/migration.sql is a migration.
#include <string_view>
#include <vector>

#include "migrations/formats/migration_file.h"
#include "result.h"

namespace pginit {

/// <0, 0, >0 as Prisma orders two directory names: JavaScript's localeCompare, whose default
/// collation (ICU's root) puts blanks before punctuation, punctuation before digits, digits before
/// letters, compares letters without their case first and puts lower before upper case only then.
int prisma_order(std::string_view a, std::string_view b);

/// Every immediate subdirectory, in prisma_order, known in the history by its name, its migration.sql
/// sent whole as one query, as Prisma's simple_query sends it (the server runs its statements as one
/// implicit transaction, or as its own BEGIN/COMMIT say), checksummed with sha256 as Prisma does.
/// Where it can, pginit runs that query in a transaction with its history row, so that a failure
/// leaves no unfinished migration to resolve; a script with transaction control of its own or a
/// statement that cannot run in a transaction runs as Prisma runs it, its row started before. Config errors (78): a
/// subdirectory without migration.sql, a migration_lock.toml for another provider than postgresql.
Result<std::vector<MigrationFile>> read_prisma_migrations(const std::vector<SourceFile>& files);

}  // namespace pginit
