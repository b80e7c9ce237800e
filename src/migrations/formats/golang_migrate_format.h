#pragma once
// golang-migrate's layout (pure): DIR/<version>_<name>.up.sql and .down.sql, numeric order.
#include <string_view>
#include <vector>

#include "migrations/formats/migration_file.h"
#include "result.h"

namespace pginit {

/// A top-level name golang-migrate takes: ^([0-9]+)_(.*)\.(down|up)\.(.*)$ (source/parse.go).
bool is_golang_migrate_name(std::string_view path);

/// The up migrations in numeric order, each sent whole as one query, as the postgres driver's one Exec
/// sends it (the server runs its statements as one implicit transaction). Where it can, pginit runs that
/// query in a transaction with the version row, so that a failure leaves nothing to force; a file with
/// transaction control of its own or a statement that cannot run in a transaction runs as
/// golang-migrate runs it, its version written dirty before and clean after. Other files are ignored, as golang-migrate
/// ignores them; down files are never run; a version with only a down file is an empty migration (its
/// version is written, nothing run). Two files of one version and direction are a config error (78),
/// as are versions beyond a bigint (the history table's column).
Result<std::vector<MigrationFile>> read_golang_migrate_migrations(const std::vector<SourceFile>& files);

}  // namespace pginit
