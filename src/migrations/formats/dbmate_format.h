#pragma once
// dbmate's layout (pure): DIR/<digits><anything>.sql with -- migrate:up / -- migrate:down sections.
#include <string_view>
#include <vector>

#include "migrations/formats/migration_file.h"
#include "result.h"

namespace pginit {

/// A line starting "--" then "migrate:up" or "migrate:down" (dbmate's upRegExp and downRegExp).
bool has_dbmate_markers(std::string_view content);

/// The top-level files matching ^(\d+).*\.sql$ (others are ignored, as dbmate ignores them), ordered
/// by file name as a string (dbmate sorts them so, whatever its README says), each known in the history
/// by its version string (leading zeros kept). Each up section is sent whole, as dbmate sends it (one
/// query, the marker line included), in a transaction with its history row, or with
/// "transaction:false" on its marker outside one, the row after. A file's several up sections run in
/// one transaction (dbmate gives each its own and then fails to record the version twice). Never the
/// down sections. Config errors (78), before anything is sent: SQL before the first up marker, an up
/// section without its down (dbmate requires one), two downs to one up, two files of one version
/// (dbmate does not see it: its maintainers call it an error).
Result<std::vector<MigrationFile>> read_dbmate_migrations(const std::vector<SourceFile>& files);

}  // namespace pginit
