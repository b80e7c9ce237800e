#pragma once
// Flyway's layout (pure): V<version>__<description>.sql and R__<description>.sql, anywhere under DIR.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "migrations/formats/formats.h"
#include "migrations/formats/migration_file.h"
#include "result.h"

namespace pginit {

/// A name Flyway resolves as a migration of its own (V, R, U, B prefixes with "__", any folder).
bool is_flyway_name(std::string_view path);

/// Flyway's checksum (ChecksumCalculator): CRC32 over the text's lines, each without its terminator
/// ("\n", "\r" or "\r\n"), a UTF-8 byte order mark dropped from the first, as a signed 32-bit number.
std::int32_t flyway_checksum(std::string_view text);

/// A Flyway version compared as Flyway compares it (MigrationVersion): "_" is ".", parts are numbers
/// of any size, trailing zero parts do not count ("1.0" is 1, "1.01" is "1.1", "1.10" > "1.9").
/// Returns the canonical text ("1.1"), or nullopt for text that is not a version.
std::optional<std::string> canonical_flyway_version(std::string_view version);
/// <0, 0, >0 as canonical versions `a` and `b` order.
int compare_flyway_versions(std::string_view a, std::string_view b);

/// The versioned migrations in version order, then the repeatables by description (each again
/// whenever its checksum changes), from every folder; other names are skipped as Flyway skips them.
/// Cut where psql cuts (Flyway's lexer cuts at the same places); run in a transaction with the history
/// row, or without one when a statement cannot run in one (CREATE INDEX CONCURRENTLY, VACUUM, CREATE
/// DATABASE, …) or its .sql.conf says executeInTransaction=false. ${placeholders} are replaced from
/// `options` (FLYWAY_PLACEHOLDERS_*) and Flyway's own ${flyway:filename}, ${flyway:table},
/// ${flyway:timestamp}. Config errors (78), before anything is sent: undo (U), baseline (B) and
/// callback files and Java migrations (pginit runs none of them), a placeholder without a value,
/// transactional and non-transactional statements in one file (unless FLYWAY_MIXED), two files of one
/// version or one repeatable description.
Result<std::vector<MigrationFile>> read_flyway_migrations(const std::vector<SourceFile>& files,
                                                          const FormatOptions& options);

}  // namespace pginit
