#include "migrations/formats/formats.h"

#include <array>
#include <cctype>

#include <fmt/format.h>

#include "migrations/formats/dbmate_format.h"
#include "migrations/formats/flyway_format.h"
#include "migrations/formats/golang_migrate_format.h"
#include "migrations/formats/goose_format.h"
#include "migrations/formats/lines.h"
#include "migrations/formats/pginit_format.h"
#include "migrations/formats/prisma_format.h"

namespace pginit {
namespace {

constexpr std::array kNames{std::pair{MigrationFormat::kPginit, std::string_view("pginit")},
                            std::pair{MigrationFormat::kGolangMigrate, std::string_view("golang-migrate")},
                            std::pair{MigrationFormat::kGoose, std::string_view("goose")},
                            std::pair{MigrationFormat::kDbmate, std::string_view("dbmate")},
                            std::pair{MigrationFormat::kFlyway, std::string_view("flyway")},
                            std::pair{MigrationFormat::kPrisma, std::string_view("prisma")}};

bool top_level(const SourceFile& file) {
  return file.path.find('/') == std::string::npos && !file.path.starts_with('.');
}

// <digits>_<anything>.sql at the top: pginit's names, and goose's and dbmate's (told apart by markers).
bool numbered_sql(std::string_view name) {
  std::size_t digits = 0;
  while (digits < name.size() && std::isdigit(static_cast<unsigned char>(name[digits]))) ++digits;
  return digits > 0 && name.size() > digits && name[digits] == '_' && name.ends_with(".sql");
}

// The first file that is evidence of each format, with what makes it so.
struct Evidence {
  MigrationFormat format;
  std::string file;
  std::string why;
};

std::optional<Evidence> evidence_of(const SourceFile& file) {
  if (file.path.find('/') == file.path.rfind('/') && file.path.ends_with("/migration.sql"))
    return Evidence{MigrationFormat::kPrisma, file.path, "is Prisma's DIR/migration.sql"};
  if (file.path == "migration_lock.toml") return Evidence{MigrationFormat::kPrisma, file.path, "is Prisma's lock file"};
  if (is_flyway_name(file.path)) return Evidence{MigrationFormat::kFlyway, file.path, "is named as Flyway names"};
  if (!top_level(file)) return std::nullopt;
  if (is_golang_migrate_name(file.path))
    return Evidence{MigrationFormat::kGolangMigrate, file.path, "is a golang-migrate .up/.down file"};
  if (!file.path.ends_with(".sql")) return std::nullopt;
  if (has_goose_annotations(file.content)) return Evidence{MigrationFormat::kGoose, file.path, "has -- +goose Up"};
  if (has_dbmate_markers(file.content)) return Evidence{MigrationFormat::kDbmate, file.path, "has -- migrate:up"};
  if (numbered_sql(file.path)) return Evidence{MigrationFormat::kPginit, file.path, "is a plain <version>_<name>.sql"};
  return std::nullopt;
}

}  // namespace

std::string_view format_name(MigrationFormat format) {
  for (const auto& [known, name] : kNames)
    if (known == format) return name;
  return "?";
}

Result<std::optional<MigrationFormat>> parse_migrations_format(std::string_view text) {
  if (text == "auto") return std::optional<MigrationFormat>();
  for (const auto& [format, name] : kNames)
    if (name == text) return std::optional<MigrationFormat>(format);
  return Failure{ExitCode::kUsage,
                 fmt::format("--migrations-format: \"{}\" is not one of auto, pginit, golang-migrate, goose, dbmate, "
                             "flyway, prisma",
                             text)};
}

std::optional<std::string> foreign_markers(std::string_view content) {
  if (has_goose_annotations(content)) return "goose's \"-- +goose\" annotations";
  if (has_dbmate_markers(content)) return "dbmate's \"-- migrate:up\" / \"-- migrate:down\" markers";
  return std::nullopt;
}

FormatOptions format_options_from(const std::map<std::string, std::string>& environment, std::string timestamp) {
  FormatOptions options;
  auto flag = [&](const char* name, bool fallback) {
    auto found = environment.find(name);
    if (found == environment.end()) return fallback;
    return found->second == "true" || found->second == "1";
  };
  constexpr std::string_view kPlaceholder = "FLYWAY_PLACEHOLDERS_";
  for (const auto& [name, value] : environment) {
    if (name.starts_with(kPlaceholder)) options.placeholders[name.substr(kPlaceholder.size())] = value;
  }
  options.placeholder_replacement = flag("FLYWAY_PLACEHOLDER_REPLACEMENT", true);
  options.flyway_mixed = flag("FLYWAY_MIXED", false);
  options.flyway_out_of_order = flag("FLYWAY_OUT_OF_ORDER", false);
  options.flyway_validate = flag("FLYWAY_VALIDATE_ON_MIGRATE", true);
  if (auto patterns = environment.find("FLYWAY_IGNORE_MIGRATION_PATTERNS"); patterns != environment.end())
    options.flyway_ignore_missing = patterns->second.find("*:missing") != std::string::npos;
  options.environment = environment;
  options.timestamp = std::move(timestamp);
  return options;
}

Result<MigrationFormat> detect_format(const std::vector<SourceFile>& files) {
  std::vector<Evidence> found;
  for (const SourceFile& file : files) {
    std::optional<Evidence> evidence = evidence_of(file);
    if (!evidence) continue;
    bool known = false;
    for (const Evidence& seen : found) known = known || seen.format == evidence->format;
    if (!known) found.push_back(*evidence);
  }
  if (found.empty()) return MigrationFormat::kPginit;
  if (found.size() == 1) return found[0].format;
  std::string evidence;
  for (const Evidence& seen : found) {
    evidence +=
        fmt::format("{}{} ({} {})", evidence.empty() ? "" : ", ", format_name(seen.format), seen.file, seen.why);
  }
  return Failure{ExitCode::kConfig,
                 fmt::format("the migrations directory fits more than one format: {}; make it one, or name the format "
                             "with --migrations-format",
                             evidence)};
}

Result<std::vector<MigrationFile>> read_migrations(MigrationFormat format, const std::vector<SourceFile>& files,
                                                   const FormatOptions& options) {
  switch (format) {
    case MigrationFormat::kPginit:
      return read_pginit_migrations(files);
    case MigrationFormat::kGolangMigrate:
      return read_golang_migrate_migrations(files);
    case MigrationFormat::kGoose:
      return read_goose_migrations(files, options.environment);
    case MigrationFormat::kDbmate:
      return read_dbmate_migrations(files);
    case MigrationFormat::kFlyway:
      return read_flyway_migrations(files, options);
    case MigrationFormat::kPrisma:
      return read_prisma_migrations(files);
  }
  return Failure{ExitCode::kSoftware, "unknown migrations format"};
}

}  // namespace pginit
