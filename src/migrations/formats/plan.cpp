#include "migrations/formats/plan.h"

#include <map>

#include <fmt/format.h>

namespace pginit {

Result<SqlSplit> split_migration(const MigrationFile& file) {
  if (file.splitting == Splitting::kSections) {
    SqlSplit split;
    int line = 1;
    std::size_t counted = 0;
    for (const auto& [begin, end] : file.sections) {
      for (; counted < begin; ++counted) line += file.content[counted] == '\n' ? 1 : 0;
      split.statements.push_back({std::string_view(file.content).substr(begin, end - begin), begin, line});
    }
    return split;
  }
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
  std::map<std::string, const AppliedMigration*> applied_by_id;
  for (const AppliedMigration& row : history) applied_by_id[row.id] = &row;
  std::size_t last_applied = 0;  // one past the last versioned file the history has
  for (std::size_t index = 0; index < files.size(); ++index) {
    if (!files[index].repeatable && applied_by_id.count(files[index].id)) last_applied = index + 1;
  }
  MigrationPlan plan;
  for (std::size_t index = 0; index < files.size(); ++index) {
    const MigrationFile& file = files[index];
    auto found = applied_by_id.find(file.id);
    if (found == applied_by_id.end()) {
      plan.pending.push_back(&file);
      if (!file.repeatable && index < last_applied) plan.out_of_order.push_back(&file);
      continue;
    }
    const std::string& applied_checksum = found->second->checksum;
    const bool same = applied_checksum.empty() || file.checksum.empty() || applied_checksum == file.checksum;
    if (same)
      plan.applied.push_back(&file);
    else if (file.repeatable)
      plan.pending.push_back(&file);
    else
      plan.changed.push_back({&file, applied_checksum});
    applied_by_id.erase(found);
  }
  for (const auto& [id, row] : applied_by_id) plan.missing.push_back(*row);
  return plan;
}

}  // namespace pginit
