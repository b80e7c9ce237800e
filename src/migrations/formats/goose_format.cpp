#include "migrations/formats/goose_format.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "migrations/formats/lines.h"

namespace pginit {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_annotation(std::string_view line) {
  return trim(line).starts_with("--") && line.find("+goose") != std::string_view::npos;
}

// endsWithSemicolon: the last whitespace-separated word, ignoring the words from the first one that
// starts with "--", ends in ";".
bool ends_statement(std::string_view line) {
  std::string_view last;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const std::size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (start == i) break;
    std::string_view word = line.substr(start, i - start);
    if (word.starts_with("--")) break;
    last = word;
  }
  return last.ends_with(";");
}

// mfridman/interpolate's forms, from `environment`; nullopt with `error` set for ${VAR?message}.
std::optional<std::string> expand(std::string_view line, const std::map<std::string, std::string>& environment,
                                  std::string& error) {
  auto lookup = [&](const std::string& name) -> std::optional<std::string> {
    auto found = environment.find(name);
    if (found == environment.end()) return std::nullopt;
    return found->second;
  };
  auto is_name = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  std::string out;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '$' || i + 1 >= line.size()) {
      out += line[i];
      continue;
    }
    if (line[i + 1] == '{') {
      const std::size_t close = line.find('}', i + 2);
      if (close == std::string_view::npos) {
        out += line[i];
        continue;
      }
      const std::string_view inner = line.substr(i + 2, close - i - 2);
      std::size_t name_end = 0;
      while (name_end < inner.size() && is_name(inner[name_end])) ++name_end;
      const std::string name(inner.substr(0, name_end));
      const std::string_view rest = inner.substr(name_end);
      const std::optional<std::string> value = lookup(name);
      if (rest.starts_with(":-")) {
        out += value && !value->empty() ? *value : std::string(rest.substr(2));
      } else if (rest.starts_with("-")) {
        out += value ? *value : std::string(rest.substr(1));
      } else if (rest.starts_with("?")) {
        if (!value) {
          error = fmt::format("${{{}}}: {}", name, rest.substr(1));
          return std::nullopt;
        }
        out += *value;
      } else {
        out += value.value_or("");
      }
      i = close;
      continue;
    }
    std::size_t end = i + 1;
    while (end < line.size() && is_name(line[end])) ++end;
    if (end == i + 1) {
      out += line[i];
      continue;
    }
    out += lookup(std::string(line.substr(i + 1, end - i - 1))).value_or("");
    i = end - 1;
  }
  return out;
}

struct Parsed {
  std::vector<std::string> statements;
  bool no_transaction = false;
};

Result<Parsed> parse_goose_file(const SourceFile& file, const std::map<std::string, std::string>& environment) {
  auto refuse = [&](int line, std::string_view why) {
    return Failure{ExitCode::kConfig, fmt::format("goose migration {} line {}: {}", file.path, line, why)};
  };
  enum class State { kStart, kUp, kDown } state = State::kStart;
  Parsed parsed;
  std::string statement;
  bool in_block = false, envsub = false, seen_up = false;
  int block_line = 0;
  for (const Line& line : lines_of(file.content)) {
    std::string_view text = line.text;
    if (text.ends_with('\r')) text.remove_suffix(1);  // bufio.ScanLines drops it
    if (is_annotation(text)) {
      if (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        return refuse(line.number, "an annotation may not be indented");
      const std::string name = lower(trim(text.substr(text.find("+goose") + 6)));
      if (name == "no transaction") {
        parsed.no_transaction = true;
      } else if (name == "up") {
        if (seen_up) return refuse(line.number, "a second -- +goose Up");
        seen_up = true;
        state = State::kUp;
      } else if (name == "down") {
        if (!seen_up) return refuse(line.number, "-- +goose Down before -- +goose Up");
        if (in_block) return refuse(block_line, "-- +goose StatementBegin without StatementEnd");
        if (!trim(statement).empty())
          return refuse(line.number, "a statement does not end before Down (missing semicolon?)");
        state = State::kDown;
        break;  // the Down section is never run
      } else if (name == "statementbegin") {
        if (state != State::kUp) return refuse(line.number, "StatementBegin outside the Up section");
        in_block = true;
        block_line = line.number;
        statement.clear();
      } else if (name == "statementend") {
        if (!in_block) return refuse(line.number, "StatementEnd without StatementBegin");
        in_block = false;
        parsed.statements.emplace_back(trim(statement));
        statement.clear();
      } else if (name == "envsub on") {
        envsub = true;
      } else if (name == "envsub off") {
        envsub = false;
      } else {
        return refuse(line.number, fmt::format("annotation \"{}\" is not supported", trim(text)));
      }
      continue;
    }
    if (state == State::kStart) {
      const std::string_view trimmed = trim(text);
      if (trimmed.empty() || trimmed.starts_with("--")) continue;
      return refuse(line.number, "SQL before -- +goose Up");
    }
    std::string expanded(text);
    if (envsub) {
      std::string error;
      std::optional<std::string> substituted = expand(text, environment, error);
      if (!substituted) return refuse(line.number, fmt::format("ENVSUB: {}", error));
      expanded = std::move(*substituted);
    }
    if (!in_block && trim(statement).empty()) {
      const std::string_view trimmed = trim(expanded);
      if (trimmed.empty() || trimmed.starts_with("--")) continue;  // before a statement: dropped
    }
    statement += expanded;
    statement += '\n';
    if (!in_block && ends_statement(expanded)) {
      parsed.statements.emplace_back(trim(statement));
      statement.clear();
    }
  }
  if (!seen_up) return refuse(1, "no -- +goose Up annotation");
  if (in_block) return refuse(block_line, "-- +goose StatementBegin without StatementEnd");
  if (!trim(statement).empty()) return refuse(1, "the last statement does not end (missing semicolon?)");
  return parsed;
}

}  // namespace

bool has_goose_annotations(std::string_view content) {
  for (const Line& line : lines_of(content))
    if (is_annotation(line.text)) return true;
  return false;
}

Result<std::vector<MigrationFile>> read_goose_migrations(const std::vector<SourceFile>& files,
                                                         const std::map<std::string, std::string>& environment) {
  std::vector<MigrationFile> migrations;
  for (const SourceFile& file : files) {
    if (file.path.find('/') != std::string::npos || file.path.starts_with('.')) continue;
    if (file.path.ends_with(".go")) {
      return Failure{
          ExitCode::kConfig,
          fmt::format("goose migration {} is a Go migration: it runs only inside the application's own "
                      "binary, and pginit runs SQL; run it with the application's goose, or rewrite it in SQL",
                      file.path)};
    }
    if (!file.path.ends_with(".sql")) continue;
    const std::string_view number = std::string_view(file.path).substr(0, file.path.find('_'));
    std::int64_t version = 0;
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), version);
    if (error != std::errc{} || end != number.data() + number.size() || version < 1 ||
        file.path.find('_') == std::string::npos) {
      return Failure{ExitCode::kConfig, fmt::format("goose migration file \"{}\": no <version>_ before its name "
                                                    "(goose: could not parse SQL migration file)",
                                                    file.path)};
    }
    auto parsed = parse_goose_file(file, environment);
    if (!parsed) return parsed.failure();
    MigrationFile migration;
    migration.version = version;
    migration.id = std::to_string(version);
    migration.name = file.path.substr(file.path.find('_') + 1, file.path.size() - file.path.find('_') - 5);
    migration.filename = file.path;
    migration.no_transaction = parsed->no_transaction;
    migration.splitting = Splitting::kSections;
    for (const std::string& statement : parsed->statements) {
      if (!migration.content.empty()) migration.content += "\n";
      migration.sections.emplace_back(migration.content.size(), migration.content.size() + statement.size());
      migration.content += statement;
    }
    migrations.push_back(std::move(migration));
  }
  std::sort(migrations.begin(), migrations.end(),
            [](const MigrationFile& a, const MigrationFile& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version == migrations[i - 1].version) {
      return Failure{ExitCode::kConfig,
                     fmt::format("goose migration files \"{}\" and \"{}\" have the same version {}",
                                 migrations[i - 1].filename, migrations[i].filename, migrations[i].version)};
    }
  }
  return migrations;
}

}  // namespace pginit
