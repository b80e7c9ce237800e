#include "migrations/formats/flyway_format.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "migrations/formats/crc32.h"
#include "migrations/formats/lines.h"
#include "migrations/formats/sql_split.h"
#include "migrations/formats/transactions.h"

namespace pginit {
namespace {

// Flyway's SQL callbacks (CallbackEvent): files named after them run around a command, not as migrations.
constexpr std::array kCallbacks{"beforeMigrate",
                                "beforeEachMigrate",
                                "beforeEachMigrateStatement",
                                "afterEachMigrateStatement",
                                "afterEachMigrateStatementError",
                                "afterEachMigrate",
                                "afterEachMigrateError",
                                "afterMigrate",
                                "afterMigrateApplied",
                                "afterVersioned",
                                "afterMigrateError",
                                "beforeUndo",
                                "beforeEachUndo",
                                "afterEachUndo",
                                "afterEachUndoError",
                                "afterUndo",
                                "afterUndoError",
                                "beforeClean",
                                "afterClean",
                                "afterCleanError",
                                "beforeInfo",
                                "afterInfo",
                                "afterInfoError",
                                "beforeValidate",
                                "afterValidate",
                                "afterValidateError",
                                "beforeBaseline",
                                "afterBaseline",
                                "afterBaselineError",
                                "beforeRepair",
                                "afterRepair",
                                "afterRepairError",
                                "createSchema",
                                "beforeCreateSchema",
                                "beforeConnect",
                                "afterConnect"};

std::string_view basename_of(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool iends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         std::equal(suffix.begin(), suffix.end(), text.end() - static_cast<std::ptrdiff_t>(suffix.size()),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

enum class Kind { kVersioned, kRepeatable, kUndo, kBaseline, kCallback };

struct FlywayName {
  Kind kind = Kind::kVersioned;
  std::string version;  // as written, "_" made "."
  std::string description;
};

// ResourceNameParser: the suffix, then the longest matching prefix, then "__".
std::optional<FlywayName> parse_name(std::string_view path, std::string_view suffix) {
  std::string_view name = basename_of(path);
  if (!iends_with(name, suffix)) return std::nullopt;
  name.remove_suffix(suffix.size());
  for (std::string_view callback : kCallbacks) {
    if (name == callback || name.starts_with(std::string(callback) + "__")) return FlywayName{Kind::kCallback, "", ""};
  }
  if (name.empty()) return std::nullopt;
  Kind kind;
  switch (name.front()) {
    case 'V':
      kind = Kind::kVersioned;
      break;
    case 'R':
      kind = Kind::kRepeatable;
      break;
    case 'U':
      kind = Kind::kUndo;
      break;
    case 'B':
      kind = Kind::kBaseline;
      break;
    default:
      return std::nullopt;
  }
  name.remove_prefix(1);
  const std::size_t separator = name.find("__");
  if (separator == std::string_view::npos) return std::nullopt;
  FlywayName parsed{kind, std::string(name.substr(0, separator)), std::string(name.substr(separator + 2))};
  std::replace(parsed.version.begin(), parsed.version.end(), '_', '.');
  std::replace(parsed.description.begin(), parsed.description.end(), '_', ' ');
  if (kind == Kind::kRepeatable ? !parsed.version.empty() : parsed.version.empty()) return std::nullopt;
  if (kind != Kind::kRepeatable && !canonical_flyway_version(parsed.version)) return std::nullopt;
  return parsed;
}

// ${name} replaced (PlaceholderReplacingReader); the name of the first without a value in `missing`.
std::string replace_placeholders(std::string_view text, const std::map<std::string, std::string>& values,
                                 std::string& missing) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t open = text.find("${", at);
    if (open == std::string_view::npos) break;
    const std::size_t close = text.find('}', open + 2);
    if (close == std::string_view::npos) break;
    out += text.substr(at, open - at);
    std::string name(text.substr(open + 2, close - open - 2));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto found = values.find(name);
    if (found == values.end()) {
      if (missing.empty()) missing = std::string(text.substr(open, close - open + 1));
      out += text.substr(open, close - open + 1);
    } else {
      out += found->second;
    }
    at = close + 1;
  }
  return out + std::string(text.substr(at));
}

// A .sql.conf sidecar's key=value lines (SqlScriptMetadata).
std::map<std::string, std::string> sidecar(std::string_view text) {
  std::map<std::string, std::string> values;
  for (const Line& line : lines_of(text)) {
    const std::string_view entry = trim(line.text);
    const std::size_t equals = entry.find('=');
    if (entry.empty() || entry.starts_with('#') || equals == std::string_view::npos) continue;
    values[std::string(trim(entry.substr(0, equals)))] = std::string(trim(entry.substr(equals + 1)));
  }
  return values;
}

// A version's parts without leading zeros, trailing zero parts dropped ("1.0" -> {"1"}).
std::vector<std::string> parts_of(std::string_view canonical) {
  std::vector<std::string> parts;
  std::size_t at = 0;
  while (at <= canonical.size()) {
    const std::size_t dot = canonical.find('.', at);
    parts.emplace_back(canonical.substr(at, dot == std::string_view::npos ? std::string_view::npos : dot - at));
    if (dot == std::string_view::npos) break;
    at = dot + 1;
  }
  return parts;
}

}  // namespace

bool is_flyway_name(std::string_view path) {
  return parse_name(path, ".sql").has_value();
}

std::int32_t flyway_checksum(std::string_view text) {
  std::uint32_t crc = 0;
  bool first = true;
  std::size_t at = 0;
  while (at < text.size()) {  // BufferedReader.readLine: "\n", "\r" or "\r\n" ends a line, and is dropped
    const std::size_t end = text.find_first_of("\r\n", at);
    std::string_view line = text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    at = end == std::string_view::npos ? text.size() : end + 1;
    if (end != std::string_view::npos && text[end] == '\r' && at < text.size() && text[at] == '\n') ++at;
    if (first && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    first = false;
    crc = crc32_update(crc, line);
  }
  return static_cast<std::int32_t>(crc);
}

std::optional<std::string> canonical_flyway_version(std::string_view version) {
  std::vector<std::string> parts;
  std::string part;
  for (std::size_t i = 0; i <= version.size(); ++i) {
    const char c = i < version.size() ? version[i] : '.';
    if (c == '.' || c == '_') {
      if (part.empty()) return std::nullopt;
      part.erase(0, std::min(part.find_first_not_of('0'), part.size() - 1));
      parts.push_back(part);
      part.clear();
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      part += c;
    } else {
      return std::nullopt;
    }
  }
  while (parts.size() > 1 && parts.back() == "0") parts.pop_back();
  std::string canonical;
  for (const std::string& each : parts) canonical += (canonical.empty() ? "" : ".") + each;
  return canonical;
}

int compare_flyway_versions(std::string_view a, std::string_view b) {
  const std::vector<std::string> left = parts_of(a), right = parts_of(b);
  for (std::size_t i = 0; i < std::max(left.size(), right.size()); ++i) {
    const std::string l = i < left.size() ? left[i] : "0", r = i < right.size() ? right[i] : "0";
    if (l.size() != r.size()) return l.size() < r.size() ? -1 : 1;
    if (l != r) return l < r ? -1 : 1;
  }
  return 0;
}

Result<std::vector<MigrationFile>> read_flyway_migrations(const std::vector<SourceFile>& files,
                                                          const FormatOptions& options) {
  std::map<std::string, std::string> sidecars;
  for (const SourceFile& file : files) {
    if (iends_with(file.path, ".sql.conf")) sidecars[file.path.substr(0, file.path.size() - 5)] = file.content;
  }
  std::map<std::string, std::string> values;
  for (const auto& [name, value] : options.placeholders) {
    std::string key = name;
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    values[key] = value;
  }
  values["flyway:table"] = options.history_table;
  values["flyway:timestamp"] = options.timestamp;
  std::vector<MigrationFile> versioned, repeatable;
  for (const SourceFile& file : files) {
    if (parse_name(file.path, ".java") || parse_name(file.path, ".class")) {
      return Failure{ExitCode::kConfig, fmt::format("Flyway migration {} is a Java migration: pginit runs SQL; run it "
                                                    "with the application's Flyway, or rewrite it in SQL",
                                                    file.path)};
    }
    std::optional<FlywayName> name = parse_name(file.path, ".sql");
    if (!name) continue;
    if (name->kind == Kind::kUndo || name->kind == Kind::kBaseline || name->kind == Kind::kCallback) {
      const char* what = name->kind == Kind::kUndo       ? "an undo migration"
                         : name->kind == Kind::kBaseline ? "a baseline migration"
                                                         : "a callback";
      return Failure{ExitCode::kConfig,
                     fmt::format("Flyway file {} is {}, which pginit does not run: remove it from the directory pginit "
                                 "reads, or run it with Flyway",
                                 file.path, what)};
    }
    std::map<std::string, std::string> conf;
    if (auto found = sidecars.find(file.path); found != sidecars.end()) conf = sidecar(found->second);
    if (conf["shouldExecute"] == "false") continue;
    MigrationFile migration;
    migration.filename = file.path;
    migration.name = name->description;
    migration.repeatable = name->kind == Kind::kRepeatable;
    migration.id = migration.repeatable ? "R:" + name->description : *canonical_flyway_version(name->version);
    migration.written_as = name->version;
    values["flyway:filename"] = std::string(basename_of(file.path));
    const bool replacement = options.placeholder_replacement && conf["placeholderReplacement"] != "false";
    std::string missing;
    migration.content = replacement ? replace_placeholders(file.content, values, missing) : file.content;
    if (!missing.empty()) {
      return Failure{
          ExitCode::kConfig,
          fmt::format("Flyway migration {}: no value for placeholder {} (set FLYWAY_PLACEHOLDERS_{} as for "
                      "Flyway; pginit resolves ${{flyway:filename}}, ${{flyway:table}} and ${{flyway:timestamp}} "
                      "itself)",
                      file.path, missing, missing.substr(2, missing.size() - 3))};
    }
    // Versioned: over the file as it is; repeatable: over the text as it runs (a placeholder's new value re-runs it).
    migration.checksum = std::to_string(flyway_checksum(migration.repeatable ? migration.content : file.content));
    const SqlSplit split = split_sql(migration.content);
    std::size_t outside = 0;
    for (const SqlStatement& statement : split.statements)
      outside += runs_outside_a_transaction(statement.text) ? 1 : 0;
    if (outside > 0 && outside < split.statements.size() && !options.flyway_mixed) {
      return Failure{ExitCode::kConfig,
                     fmt::format("Flyway migration {} mixes statements that run in a transaction with ones that cannot "
                                 "(Flyway refuses it unless mixed=true: FLYWAY_MIXED)",
                                 file.path)};
    }
    migration.no_transaction = outside > 0 || conf["executeInTransaction"] == "false";
    (migration.repeatable ? repeatable : versioned).push_back(std::move(migration));
  }
  std::sort(versioned.begin(), versioned.end(),
            [](const MigrationFile& a, const MigrationFile& b) { return compare_flyway_versions(a.id, b.id) < 0; });
  std::sort(repeatable.begin(), repeatable.end(),
            [](const MigrationFile& a, const MigrationFile& b) { return a.name < b.name; });
  for (std::size_t i = 1; i < versioned.size(); ++i) {
    if (versioned[i].id == versioned[i - 1].id) {
      return Failure{ExitCode::kConfig, fmt::format("Flyway migrations \"{}\" and \"{}\" have the same version {} "
                                                    "(Flyway: found more than one migration with it)",
                                                    versioned[i - 1].filename, versioned[i].filename, versioned[i].id)};
    }
  }
  for (std::size_t i = 1; i < repeatable.size(); ++i) {
    if (repeatable[i].id == repeatable[i - 1].id) {
      return Failure{ExitCode::kConfig,
                     fmt::format("Flyway migrations \"{}\" and \"{}\" have the same description (Flyway: found more "
                                 "than one repeatable migration with it)",
                                 repeatable[i - 1].filename, repeatable[i].filename)};
    }
  }
  versioned.insert(versioned.end(), std::make_move_iterator(repeatable.begin()),
                   std::make_move_iterator(repeatable.end()));
  return versioned;
}

}  // namespace pginit
