#include "migrations/formats/golang_migrate_format.h"

#include <charconv>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "migrations/formats/lines.h"
#include "migrations/formats/transactions.h"

namespace pginit {
namespace {

struct Name {
  std::uint64_t version = 0;
  std::string identifier;
  bool up = false;
};

std::optional<Name> parse_name(std::string_view path) {
  if (path.find('/') != std::string_view::npos) return std::nullopt;
  std::size_t digits = 0;
  while (digits < path.size() && path[digits] >= '0' && path[digits] <= '9') ++digits;
  if (digits == 0 || digits >= path.size() || path[digits] != '_') return std::nullopt;
  // (.*) is greedy: the last ".up." or ".down." ends the identifier.
  const std::size_t up = path.rfind(".up."), down = path.rfind(".down.");
  const bool is_up = up != std::string_view::npos && (down == std::string_view::npos || up > down);
  const std::size_t marker = is_up ? up : down;
  if (marker == std::string_view::npos || marker < digits + 1) return std::nullopt;
  Name name;
  auto [end, error] = std::from_chars(path.data(), path.data() + digits, name.version);
  if (error != std::errc{}) return std::nullopt;  // ParseUint fails: golang-migrate skips the file
  name.identifier = std::string(path.substr(digits + 1, marker - digits - 1));
  name.up = is_up;
  return name;
}

}  // namespace

bool is_golang_migrate_name(std::string_view path) {
  return parse_name(path).has_value();
}

Result<std::vector<MigrationFile>> read_golang_migrate_migrations(const std::vector<SourceFile>& files) {
  struct Version {
    const SourceFile* up = nullptr;
    const SourceFile* down = nullptr;
    Name name;
  };
  std::map<std::uint64_t, Version> versions;  // numeric order, as source/migration.go sorts them
  for (const SourceFile& file : files) {
    std::optional<Name> name = parse_name(file.path);
    if (!name) continue;
    if (name->version > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return Failure{ExitCode::kConfig, fmt::format("migration file \"{}\": its version does not fit the history "
                                                    "table's bigint",
                                                    file.path)};
    }
    Version& version = versions[name->version];
    const SourceFile*& slot = name->up ? version.up : version.down;
    if (slot != nullptr) {
      return Failure{ExitCode::kConfig, fmt::format("migration files \"{}\" and \"{}\" have the same version {} and "
                                                    "direction (golang-migrate: duplicate migration)",
                                                    slot->path, file.path, name->version)};
    }
    slot = &file;
    if (name->up || version.name.identifier.empty()) version.name = *name;
  }
  std::vector<MigrationFile> migrations;
  for (const auto& [number, version] : versions) {
    MigrationFile migration;
    migration.version = static_cast<std::int64_t>(number);
    migration.id = std::to_string(number);
    migration.name = version.name.identifier;
    migration.splitting = Splitting::kSections;
    if (version.up != nullptr) {
      migration.filename = version.up->path;
      migration.content = version.up->content;
      migration.no_transaction = !can_run_in_a_transaction(migration.content);
      if (!trim(migration.content).empty()) migration.sections.emplace_back(0, migration.content.size());
    } else {
      migration.filename = version.down->path;  // only a down file: an empty migration, nothing of it runs
    }
    migrations.push_back(std::move(migration));
  }
  return migrations;
}

}  // namespace pginit
