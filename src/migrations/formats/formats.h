#pragma once
// The migration tools whose directories pginit reads, which one a directory was written for, and
// reading it (pure: file names and texts in, the migrations in the order they apply out).
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "migrations/formats/migration_file.h"
#include "result.h"

namespace pginit {

enum class MigrationFormat { kPginit, kGolangMigrate, kGoose, kDbmate, kFlyway, kPrisma };

/// "pginit", "golang-migrate", "goose", "dbmate", "flyway", "prisma".
std::string_view format_name(MigrationFormat format);

/// --migrations-format: one of the names above, or "auto" (nullopt); anything else is a usage error (64).
Result<std::optional<MigrationFormat>> parse_migrations_format(std::string_view text);

/// What a tool reads besides the files, taken from the environment its own users set (pure data).
struct FormatOptions {
  std::map<std::string, std::string> placeholders;  ///< Flyway's ${name}: FLYWAY_PLACEHOLDERS_NAME
  bool placeholder_replacement = true;              ///< FLYWAY_PLACEHOLDER_REPLACEMENT
  bool flyway_mixed = false;                        ///< FLYWAY_MIXED: transactional and not in one file
  std::string history_table;                        ///< for ${flyway:table}
  std::map<std::string, std::string> environment;   ///< for goose's ENVSUB
  std::string timestamp;                            ///< ${flyway:timestamp}: the caller's clock, passed in
  bool flyway_out_of_order = false;                 ///< FLYWAY_OUT_OF_ORDER
  bool flyway_validate = true;                      ///< FLYWAY_VALIDATE_ON_MIGRATE: a changed checksum is an error
  bool flyway_ignore_missing = false;               ///< FLYWAY_IGNORE_MIGRATION_PATTERNS holds *:missing
};

/// The tools' own settings from the environment their users set: FLYWAY_PLACEHOLDERS_<NAME>,
/// FLYWAY_PLACEHOLDER_REPLACEMENT, FLYWAY_MIXED, FLYWAY_OUT_OF_ORDER, FLYWAY_VALIDATE_ON_MIGRATE,
/// FLYWAY_IGNORE_MIGRATION_PATTERNS (*:missing), and the whole environment for goose's ENVSUB.
/// `timestamp` is ${flyway:timestamp}.
FormatOptions format_options_from(const std::map<std::string, std::string>& environment, std::string timestamp);

/// The format `files` were written for: recognised from names and markers (goose's "-- +goose Up",
/// dbmate's "-- migrate:up", golang-migrate's .up/.down files, Flyway's V1__/R__ names, Prisma's
/// DIR/migration.sql), pginit's own <version>_<name>.sql otherwise. A directory with evidence of two is
/// a config error (78) naming a file of each.
Result<MigrationFormat> detect_format(const std::vector<SourceFile>& files);

/// The directory's migrations in the order the tool applies them, each with the text pginit runs, how
/// to split it, its transaction mode and the tool's checksum. What pginit cannot run as the tool would
/// (a down section run up, a Go or Java migration, an undo file, a placeholder it cannot resolve,
/// another tool's markers in a file of this format) is a config error (78) naming the file, before
/// anything is sent.
Result<std::vector<MigrationFile>> read_migrations(MigrationFormat format, const std::vector<SourceFile>& files,
                                                   const FormatOptions& options);

/// Another tool's markers in `content` ("dbmate's -- migrate:up", "goose's -- +goose Up"), or nullopt.
std::optional<std::string> foreign_markers(std::string_view content);

}  // namespace pginit
