#include "migrations/formats/plan.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace pginit {
namespace {

constexpr std::size_t kMaxVersionDigits = 18;  // fits a Postgres bigint

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

Result<std::vector<MigrationFile>> order_migration_files(const std::vector<DirectoryEntry>& entries) {
  std::vector<MigrationFile> files;
  for (const DirectoryEntry& entry : entries) {
    if (entry.is_directory || entry.name.starts_with('.')) continue;
    const std::string& name = entry.name;
    std::size_t digits = 0;
    while (digits < name.size() && is_digit(name[digits])) ++digits;
    const bool matches = entry.is_regular_file && digits > 0 && digits < name.size() && name[digits] == '_' &&
                         name.size() > digits + 1 + 4 && name.ends_with(".sql");
    if (!matches) {
      return Failure{ExitCode::kConfig,
                     fmt::format("migration file \"{}\" does not match <version>_<name>.sql (version: digits)", name)};
    }
    if (digits > kMaxVersionDigits) {
      return Failure{ExitCode::kConfig,
                     fmt::format("migration file \"{}\": version has more than {} digits", name, kMaxVersionDigits)};
    }
    MigrationFile file;
    for (std::size_t i = 0; i < digits; ++i) file.version = file.version * 10 + (name[i] - '0');
    file.name = name.substr(digits + 1, name.size() - digits - 1 - 4);
    file.filename = name;
    files.push_back(std::move(file));
  }
  std::sort(files.begin(), files.end(), [](const MigrationFile& a, const MigrationFile& b) {
    return a.version != b.version ? a.version < b.version : a.filename < b.filename;
  });
  for (std::size_t i = 1; i < files.size(); ++i) {
    if (files[i].version == files[i - 1].version) {
      return Failure{ExitCode::kConfig, fmt::format("migration files \"{}\" and \"{}\" have the same version {}",
                                                    files[i - 1].filename, files[i].filename, files[i].version)};
    }
  }
  return files;
}

bool wants_no_transaction(std::string_view content) {
  std::string_view first_line = content.substr(0, content.find('\n'));
  while (!first_line.empty() && (first_line.back() == '\r' || first_line.back() == ' ' || first_line.back() == '\t'))
    first_line.remove_suffix(1);
  while (!first_line.empty() && (first_line.front() == ' ' || first_line.front() == '\t')) first_line.remove_prefix(1);
  if (first_line.starts_with("\xEF\xBB\xBF")) first_line.remove_prefix(3);  // UTF-8 byte order mark
  return first_line == "-- pginit:no-transaction";
}

Result<SqlSplit> split_migration(const MigrationFile& file) {
  SqlSplit split = split_sql(file.content);
  if (split.psql_only) {
    return Failure{ExitCode::kMigrationFailed,
                   fmt::format("migration {} line {}: {} is psql-only syntax, and pginit sends plain SQL itself; "
                               "remove it, or run the file with psql through --migrate-cmd",
                               file.filename, split.psql_only->line, split.psql_only->what)};
  }
  return split;
}

MigrationPlan plan_migrations(const std::vector<MigrationFile>& files, const std::vector<AppliedMigration>& history) {
  std::map<std::int64_t, const AppliedMigration*> applied_by_version;
  std::int64_t newest_applied = -1;
  for (const AppliedMigration& row : history) {
    applied_by_version[row.version] = &row;
    newest_applied = std::max(newest_applied, row.version);
  }
  MigrationPlan plan;
  for (const MigrationFile& file : files) {
    auto found = applied_by_version.find(file.version);
    if (found == applied_by_version.end()) {
      plan.pending.push_back(&file);
      if (file.version < newest_applied) plan.out_of_order.push_back(&file);
      continue;
    }
    if (found->second->checksum != file.checksum)
      plan.changed.push_back({&file, found->second->checksum});
    else
      plan.applied.push_back(&file);
    applied_by_version.erase(found);
  }
  for (const auto& [version, row] : applied_by_version) plan.missing.push_back(*row);
  return plan;
}

}  // namespace pginit
