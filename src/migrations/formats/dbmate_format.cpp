#include "migrations/formats/dbmate_format.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "migrations/formats/lines.h"

namespace pginit {
namespace {

// "up" or "down" when `line` is a marker: ^--\s*migrate:(up|down)(\s*$|\s+\S+), and its options.
struct Marker {
  bool up = false;
  std::string_view options;
};

std::optional<Marker> marker_of(std::string_view line) {
  if (!line.starts_with("--")) return std::nullopt;
  std::size_t i = 2;
  while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
  std::string_view rest = line.substr(i);
  Marker marker;
  if (rest.starts_with("migrate:up")) {
    marker.up = true;
    rest.remove_prefix(10);
  } else if (rest.starts_with("migrate:down")) {
    rest.remove_prefix(12);
  } else {
    return std::nullopt;
  }
  // (\s*$|\s+\S+): nothing after it but blanks, or blanks and then options.
  if (!rest.empty() && !std::isspace(static_cast<unsigned char>(rest.front()))) return std::nullopt;
  marker.options = trim(rest);
  return marker;
}

bool transactional(std::string_view options) {
  std::size_t at = 0;
  while (at < options.size()) {
    while (at < options.size() && std::isspace(static_cast<unsigned char>(options[at]))) ++at;
    const std::size_t start = at;
    while (at < options.size() && !std::isspace(static_cast<unsigned char>(options[at]))) ++at;
    const std::string_view pair = options.substr(start, at - start);
    if (pair.starts_with("transaction:")) return pair.substr(12) != "false";
  }
  return true;
}

}  // namespace

bool has_dbmate_markers(std::string_view content) {
  for (const Line& line : lines_of(content))
    if (marker_of(line.text)) return true;
  return false;
}

Result<std::vector<MigrationFile>> read_dbmate_migrations(const std::vector<SourceFile>& files) {
  std::vector<MigrationFile> migrations;
  for (const SourceFile& file : files) {
    const std::string& path = file.path;
    if (path.find('/') != std::string::npos || !path.ends_with(".sql")) continue;
    std::size_t digits = 0;
    while (digits < path.size() && std::isdigit(static_cast<unsigned char>(path[digits]))) ++digits;
    if (digits == 0) continue;
    auto refuse = [&](int line, std::string_view why) {
      return Failure{ExitCode::kConfig, fmt::format("dbmate migration {} line {}: {}", path, line, why)};
    };
    MigrationFile migration;
    migration.id = path.substr(0, digits);
    migration.name = path.substr(digits, path.size() - digits - 4);
    while (!migration.name.empty() && (migration.name.front() == '_' || migration.name.front() == '-'))
      migration.name.erase(0, 1);
    migration.filename = path;
    migration.splitting = Splitting::kSections;
    std::optional<std::size_t> up_begin;  // an up section open since this offset
    int up_line = 0;
    bool down_seen = false;
    const std::vector<Line> lines = lines_of(file.content);
    for (const Line& line : lines) {
      std::optional<Marker> marker = marker_of(line.text);
      if (!marker) {
        const std::string_view text = trim(line.text);
        if (!up_begin && !down_seen && !text.empty() && !text.starts_with("--"))
          return refuse(line.number, "SQL before the first -- migrate:up");
        continue;
      }
      if (marker->up) {
        if (up_begin) return refuse(up_line, "-- migrate:up without its -- migrate:down");
        up_begin = line.begin;
        up_line = line.number;
        down_seen = false;
        migration.no_transaction = migration.no_transaction || !transactional(marker->options);
        continue;
      }
      if (!up_begin)
        return refuse(line.number,
                      down_seen ? "two -- migrate:down for one up" : "-- migrate:down before -- migrate:up");
      const std::string_view section = std::string_view(file.content).substr(*up_begin, line.begin - *up_begin);
      migration.sections.emplace_back(migration.content.size(), migration.content.size() + section.size());
      migration.content += section;
      up_begin.reset();
      down_seen = true;
    }
    if (up_begin) return refuse(up_line, "-- migrate:up without its -- migrate:down (dbmate requires one)");
    if (migration.sections.empty()) return refuse(1, "no -- migrate:up section");
    migrations.push_back(std::move(migration));
  }
  std::sort(migrations.begin(), migrations.end(),
            [](const MigrationFile& a, const MigrationFile& b) { return a.filename < b.filename; });
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    for (std::size_t j = i + 1; j < migrations.size(); ++j) {
      if (migrations[i].id == migrations[j].id) {
        return Failure{ExitCode::kConfig,
                       fmt::format("dbmate migration files \"{}\" and \"{}\" have the same version {}",
                                   migrations[i].filename, migrations[j].filename, migrations[i].id)};
      }
    }
  }
  return migrations;
}

}  // namespace pginit
