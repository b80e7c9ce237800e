#include "migrations/formats/prisma_format.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <string>

#include <fmt/format.h>

#include "migrations/formats/lines.h"
#include "migrations/formats/sha256.h"
#include "migrations/formats/transactions.h"

namespace pginit {
namespace {

// Primary weights of ICU's root collation for ASCII: blanks, then punctuation and symbols in ICU's
// order, then digits, then letters (either case alike); bytes beyond ASCII after them, as they come.
int primary_weight(unsigned char c) {
  static constexpr std::string_view kOrder =
      "\t\n\v\f\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz";
  const std::size_t found = kOrder.find(static_cast<char>(std::tolower(c)));
  return found == std::string_view::npos ? 1000 + c : static_cast<int>(found);
}

}  // namespace

int prisma_order(std::string_view a, std::string_view b) {
  const std::size_t shared = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < shared; ++i) {  // primary: which character, whatever its case
    const int left = primary_weight(static_cast<unsigned char>(a[i]));
    const int right = primary_weight(static_cast<unsigned char>(b[i]));
    if (left != right) return left < right ? -1 : 1;
  }
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (std::size_t i = 0; i < shared; ++i) {  // tertiary: lower case before upper case
    const bool left_upper = std::isupper(static_cast<unsigned char>(a[i])) != 0;
    const bool right_upper = std::isupper(static_cast<unsigned char>(b[i])) != 0;
    if (left_upper != right_upper) return left_upper ? 1 : -1;
  }
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

Result<std::vector<MigrationFile>> read_prisma_migrations(const std::vector<SourceFile>& files) {
  std::map<std::string, const SourceFile*> directories;  // every immediate subdirectory, its migration.sql
  for (const SourceFile& file : files) {
    if (file.path == "migration_lock.toml") {
      for (const Line& line : lines_of(file.content)) {
        const std::string_view text = trim(line.text);
        if (text.starts_with("provider") && text.find("\"postgresql\"") == std::string_view::npos) {
          return Failure{ExitCode::kConfig, fmt::format("Prisma's migration_lock.toml says {}: these migrations are "
                                                        "for another database (Prisma: P3019)",
                                                        text)};
        }
      }
      continue;
    }
    const std::size_t slash = file.path.find('/');
    if (slash == std::string::npos || file.path.starts_with('.')) continue;
    const std::string directory = file.path.substr(0, slash);
    const SourceFile*& script = directories[directory];
    if (file.path == directory + "/migration.sql") script = &file;
  }
  std::vector<MigrationFile> migrations;
  for (const auto& [directory, script] : directories) {
    if (script == nullptr) {
      return Failure{
          ExitCode::kConfig,
          fmt::format("Prisma migration {} has no migration.sql (Prisma reads every subdirectory as one)", directory)};
    }
    MigrationFile migration;
    migration.id = directory;
    migration.name = directory;
    migration.filename = script->path;
    migration.content = script->content;
    migration.checksum = sha256_hex(migration.content);
    migration.no_transaction = !can_run_in_a_transaction(migration.content);
    migration.splitting = Splitting::kSections;
    if (!trim(migration.content).empty()) migration.sections.emplace_back(0, migration.content.size());
    migrations.push_back(std::move(migration));
  }
  std::sort(migrations.begin(), migrations.end(),
            [](const MigrationFile& a, const MigrationFile& b) { return prisma_order(a.id, b.id) < 0; });
  return migrations;
}

}  // namespace pginit
