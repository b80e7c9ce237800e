#pragma once
// goose's layout (pure): DIR/<version>_<name>.sql with -- +goose Up / Down sections, numeric order.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "migrations/formats/migration_file.h"
#include "result.h"

namespace pginit {

/// A line goose reads as an annotation: trimmed, it starts with "--" and holds "+goose".
bool has_goose_annotations(std::string_view content);

/// Every top-level .sql file (goose's CLI takes no other name: <int64 ≥ 1>_<name>.sql, numeric order),
/// its Up section cut into statements by goose's own rules (internal/sqlparser/parser.go): a statement
/// ends on a line whose last word before any "--" word ends in ";", a StatementBegin/StatementEnd block
/// is one, comment and blank lines before a statement are dropped, each is trimmed; ENVSUB ON/OFF
/// expands $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR?message} from `environment`. One
/// transaction per file, or none with NO TRANSACTION. The Down section is never run. A Go migration
/// in the directory, a name goose cannot parse, two files of one version, and what goose's parser
/// refuses (no Up, SQL before it, Down before Up, an unknown annotation, a missing StatementEnd, an
/// unterminated statement) are config errors (78) naming the file and line.
Result<std::vector<MigrationFile>> read_goose_migrations(const std::vector<SourceFile>& files,
                                                         const std::map<std::string, std::string>& environment);

}  // namespace pginit
