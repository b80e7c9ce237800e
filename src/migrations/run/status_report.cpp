#include "migrations/run/status_report.h"

#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "migrations/formats/sha256.h"

namespace pginit {

void print_dry_run(const MigrationPlan& plan) {
  if (plan.pending.empty()) std::puts("no pending migrations");
  for (const MigrationFile* file : plan.pending) {
    std::printf("pending  %s%s\n", file->filename.c_str(), file->no_transaction ? "  (no transaction)" : "");
  }
  std::fflush(stdout);
}

void print_status(const MigrationPlan& plan, const std::vector<MigrationFile>& files) {
  std::printf("%-8s  %-20s  %s\n", "STATUS", "VERSION", "FILE");
  for (const MigrationFile& file : files) {
    std::string status = "applied";
    std::string note;
    for (const auto* pending : plan.pending) {
      if (pending == &file) status = "pending";
    }
    for (const auto& changed : plan.changed) {
      if (changed.file == &file) {
        status = "changed";
        note = fmt::format("  (applied {}, file now {})", short_checksum(changed.applied_checksum),
                           short_checksum(file.checksum));
      }
    }
    std::printf("%-8s  %-20s  %s%s\n", status.c_str(), file.id.c_str(), file.filename.c_str(), note.c_str());
  }
  for (const AppliedMigration& missing : plan.missing) {
    std::printf("%-8s  %-20s  %s  (applied, no file)\n", "missing", missing.id.c_str(), missing.name.c_str());
  }
  std::fflush(stdout);
}

}  // namespace pginit
