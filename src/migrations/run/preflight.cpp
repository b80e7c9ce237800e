#include "migrations/run/preflight.h"

#include <fmt/format.h>

#include "files.h"
#include "log.h"
#include "migrations/run/pooler_safety.h"
#include "migrations/formats/sha256.h"

namespace pginit {

Result<std::vector<MigrationFile>> load_migration_files(const std::string& directory) {
  auto entries = list_directory(directory);
  if (!entries) return entries.failure();
  auto files = order_migration_files(*entries);
  if (!files) return files.failure();
  for (MigrationFile& file : *files) {
    auto content = read_file(directory + "/" + file.filename);
    if (!content)
      return Failure{ExitCode::kConfig,
                     fmt::format("cannot read migration {}/{}: {}", directory, file.filename, content.error())};
    file.content = std::move(*content);
    file.checksum = sha256_hex(file.content);
    file.no_transaction = wants_no_transaction(file.content);
  }
  return files;
}

int check_plan(const MigrationPlan& plan, const MigrationSettings& settings) {
  for (const auto& changed : plan.changed) {
    if (settings.allow_changed) {
      log::warn(fmt::format("migration {} changed since it was applied; applying nothing for it (--allow-changed)",
                            changed.file->filename),
                {{"applied_checksum", changed.applied_checksum}, {"file_checksum", changed.file->checksum}});
      continue;
    }
    return log::failure(
        ExitCode::kMigrationFailed,
        fmt::format("migration {} changed after it was applied: checksum {} in the history table, {} on disk; "
                    "restore the file, or pass --allow-changed",
                    changed.file->filename, changed.applied_checksum, changed.file->checksum));
  }
  for (const MigrationFile* file : plan.out_of_order) {
    if (settings.strict_order) {
      return log::failure(
          ExitCode::kMigrationFailed,
          fmt::format("migration {} is older than the newest applied one (--strict-order)", file->filename));
    }
    log::warn(fmt::format("applying migration {} out of order: a newer one is already applied", file->filename));
  }
  for (const AppliedMigration& missing : plan.missing) {
    log::warn(
        fmt::format("migration {}_{} is in the history table but its file is gone", missing.version, missing.name));
  }
  return 0;
}

Result<std::vector<std::vector<SqlStatement>>> split_pending(const MigrationPlan& plan) {
  std::vector<std::vector<SqlStatement>> statements;
  for (const MigrationFile* file : plan.pending) {
    auto split = split_migration(*file);
    if (!split) return split.failure();
    for (int line : split->skipped_lines)
      log::debug("left out a psql-only line", {{"file", file->filename}, {"line", line}});
    statements.push_back(std::move(split->statements));
  }
  return statements;
}

int check_pooler_safety(const MigrationPlan& plan, const std::vector<std::vector<SqlStatement>>& statements) {
  for (std::size_t index = 0; index < plan.pending.size(); ++index) {
    const MigrationFile& file = *plan.pending[index];
    for (const SqlStatement& statement : statements[index]) {
      if (auto reason = pooler_unsafe_reason(statement.text, file.no_transaction)) {
        return log::failure(ExitCode::kConfig,
                            fmt::format("migration {} line {} cannot run through the connection pooler: {}; give the "
                                        "migrations a direct connection to the server with --migrate-dsn",
                                        file.filename, statement.line, *reason));
      }
    }
  }
  return 0;
}

}  // namespace pginit
