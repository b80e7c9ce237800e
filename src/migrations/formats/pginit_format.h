#pragma once
// pginit's own layout (pure): DIR/<version>_<name>.sql, applied in numeric order.
#include <string_view>
#include <vector>

#include "migrations/formats/migration_file.h"
#include "result.h"

namespace pginit {

/// The top-level files of the directory, ordered by version: each <digits>_<name>.sql (at most 18
/// digits, so that it fits a bigint), checksummed with sha256, cut where psql cuts. Hidden files and
/// what lies in subdirectories are ignored; any other file, two files with one version, or a file with
/// another tool's markers (never run as plain SQL: its down section would run too) are config errors
/// (78) naming the file(s).
Result<std::vector<MigrationFile>> read_pginit_migrations(const std::vector<SourceFile>& files);

/// True when the file's first line is "-- pginit:no-transaction" (blanks around it allowed).
bool wants_no_transaction(std::string_view content);

}  // namespace pginit
