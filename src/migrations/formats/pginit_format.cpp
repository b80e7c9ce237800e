#include "migrations/formats/pginit_format.h"

#include <algorithm>

#include <fmt/format.h>

#include "migrations/formats/formats.h"
#include "migrations/formats/sha256.h"

namespace pginit {
namespace {

constexpr std::size_t kMaxVersionDigits = 18;  // fits a Postgres bigint

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

Result<std::vector<MigrationFile>> read_pginit_migrations(const std::vector<SourceFile>& sources) {
  std::vector<MigrationFile> files;
  for (const SourceFile& source : sources) {
    const std::string& name = source.path;
    if (name.find('/') != std::string::npos || name.starts_with('.')) continue;
    std::size_t digits = 0;
    while (digits < name.size() && is_digit(name[digits])) ++digits;
    const bool matches = digits > 0 && digits < name.size() && name[digits] == '_' && name.size() > digits + 1 + 4 &&
                         name.ends_with(".sql");
    if (!matches) {
      return Failure{ExitCode::kConfig,
                     fmt::format("migration file \"{}\" does not match <version>_<name>.sql (version: digits)", name)};
    }
    if (digits > kMaxVersionDigits) {
      return Failure{ExitCode::kConfig,
                     fmt::format("migration file \"{}\": version has more than {} digits", name, kMaxVersionDigits)};
    }
    if (std::optional<std::string> markers = foreign_markers(source.content)) {
      return Failure{ExitCode::kConfig,
                     fmt::format("migration file \"{}\" has {}: it is not run as plain SQL (its down section would run "
                                 "too); read the directory in that tool's format (--migrations-format auto)",
                                 name, *markers)};
    }
    MigrationFile file;
    for (std::size_t i = 0; i < digits; ++i) file.version = file.version * 10 + (name[i] - '0');
    file.id = std::to_string(file.version);
    file.name = name.substr(digits + 1, name.size() - digits - 1 - 4);
    file.filename = name;
    file.content = source.content;
    file.checksum = sha256_hex(file.content);
    file.no_transaction = wants_no_transaction(file.content);
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

}  // namespace pginit
