#include "migrations/run/preflight.h"

#include <fmt/format.h>

#include "files.h"
#include "log.h"
#include "migrations/run/pooler_safety.h"

namespace pginit {

namespace {

// Every regular file under `directory` (up to kMaxDepth folders down), hidden names left out: what the
// formats choose from. A file that cannot be read is a config error naming it.
constexpr int kMaxDepth = 8;

std::optional<Failure> read_tree(const std::string& directory, const std::string& prefix, int depth,
                                 std::vector<SourceFile>& files) {
  auto entries = list_directory(prefix.empty() ? directory : directory + "/" + prefix);
  if (!entries) return entries.failure();
  for (const DirectoryEntry& entry : *entries) {
    if (entry.name.starts_with('.')) continue;
    const std::string path = prefix.empty() ? entry.name : prefix + "/" + entry.name;
    if (entry.is_directory) {
      if (depth < kMaxDepth) {
        if (auto failed = read_tree(directory, path, depth + 1, files)) return failed;
      }
      continue;
    }
    if (!entry.is_regular_file) continue;
    auto content = read_file(directory + "/" + path);
    if (!content)
      return Failure{ExitCode::kConfig,
                     fmt::format("cannot read migration {}/{}: {}", directory, path, content.error())};
    files.push_back({path, std::move(*content)});
  }
  return std::nullopt;
}

}  // namespace

Result<LoadedMigrations> load_migrations(const MigrationSettings& settings) {
  std::vector<SourceFile> sources;
  if (auto failed = read_tree(*settings.directory, "", 0, sources)) return *failed;
  LoadedMigrations loaded;
  if (settings.format) {
    loaded.format = *settings.format;
  } else {
    auto detected = detect_format(sources);
    if (!detected) return detected.failure();
    loaded.format = *detected;
  }
  auto files = read_migrations(loaded.format, sources, settings.format_options);
  if (!files) return files.failure();
  loaded.files = std::move(*files);
  return loaded;
}

int check_plan(const MigrationPlan& plan, const MigrationSettings& settings, MigrationFormat format) {
  const FormatOptions& options = settings.format_options;
  for (const auto& changed : plan.changed) {
    if (settings.allow_changed || (format == MigrationFormat::kFlyway && !options.flyway_validate)) {
      log::warn(fmt::format("migration {} changed since it was applied; applying nothing for it (--allow-changed)",
                            changed.file->filename),
                {{"applied_checksum", changed.applied_checksum}, {"file_checksum", changed.file->checksum}});
      continue;
    }
    const std::string tool = format == MigrationFormat::kFlyway
                                 ? " (Flyway: Migration checksum mismatch; its `flyway repair` realigns the checksum)"
                                 : "; restore the file, or pass --allow-changed";
    return log::failure(ExitCode::kMigrationFailed,
                        fmt::format("migration {} changed after it was applied: checksum {} in the history table, {} "
                                    "on disk{}",
                                    changed.file->filename, changed.applied_checksum, changed.file->checksum, tool));
  }
  for (const MigrationFile* file : plan.out_of_order) {
    const bool refused = settings.strict_order || format == MigrationFormat::kGoose ||
                         (format == MigrationFormat::kFlyway && !options.flyway_out_of_order);
    if (refused) {
      const std::string why = format == MigrationFormat::kGoose    ? "goose: found missing migrations before the "
                                                                     "current version; its -allow-missing applies them"
                              : format == MigrationFormat::kFlyway ? "Flyway: Detected resolved migration not applied "
                                                                     "to database; FLYWAY_OUT_OF_ORDER=true applies it"
                                                                   : "--strict-order";
      return log::failure(ExitCode::kMigrationFailed,
                          fmt::format("migration {} is older than the newest applied one ({})", file->filename, why));
    }
    log::warn(fmt::format("applying migration {} out of order: a newer one is already applied", file->filename));
  }
  for (const AppliedMigration& missing : plan.missing) {
    if (format == MigrationFormat::kFlyway && !options.flyway_ignore_missing) {
      return log::failure(
          ExitCode::kMigrationFailed,
          fmt::format("migration {} is in the history table but not in the directory (Flyway: Detected applied "
                      "migration not resolved locally; FLYWAY_IGNORE_MIGRATION_PATTERNS=*:missing goes on without it)",
                      missing.id));
    }
    log::warn(fmt::format("migration {} {} is in the history table but its file is gone", missing.id, missing.name));
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
