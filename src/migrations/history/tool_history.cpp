#include "migrations/history/tool_history.h"

#include <charconv>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "migrations/formats/crc32.h"
#include "migrations/formats/flyway_format.h"
#include "migrations/history/history.h"

namespace pginit {
namespace {

std::int64_t number_of(const std::optional<std::string>& text) {
  std::int64_t value = 0;
  if (text) std::from_chars(text->data(), text->data() + text->size(), value);
  return value;
}

bool is_true(const std::optional<std::string>& text) {
  return text == std::optional<std::string>("t");
}

// Flyway abbreviates what does not fit its columns (SchemaHistory.abbreviate...): the first n-3 and "...".
std::string abbreviated(std::string_view text, std::size_t width) {
  if (text.size() <= width) return std::string(text);
  return std::string(text.substr(0, width - 3)) + "...";
}

HistoryState read_golang_migrate(const std::vector<HistoryRow>& rows, const std::vector<MigrationFile>& files) {
  HistoryState state;
  if (rows.empty()) return state;
  const std::int64_t current = number_of(rows[0].at(0));
  if (is_true(rows[0].at(1))) {
    state.refusal = fmt::format(
        "Dirty database version {}. Fix and force version. (golang-migrate: the migration to version {} failed or "
        "was interrupted part-way; repair what it left, then `migrate force {}`, or the version before it)",
        current, current, current);
    return state;
  }
  bool found = false;
  for (const MigrationFile& file : files) {
    if (file.version > current) continue;
    found = found || file.version == current;
    state.applied.push_back({file.id, file.name, ""});
  }
  if (!found && current > 0) {
    state.refusal = fmt::format(
        "no migration found for version {} (golang-migrate: the database is at a version no "
        "file of the directory has)",
        current);
  }
  return state;
}

HistoryState read_goose(const std::vector<HistoryRow>& rows) {
  std::map<std::int64_t, bool> newest;  // the newest row of a version decides (EnsureDBVersion)
  for (const HistoryRow& row : rows) newest[number_of(row.at(0))] = is_true(row.at(1));
  HistoryState state;
  for (const auto& [version, applied] : newest) {
    if (version != 0 && applied) state.applied.push_back({std::to_string(version), "", ""});
  }
  return state;
}

HistoryState read_flyway(const std::vector<HistoryRow>& rows, const std::vector<MigrationFile>& files,
                         std::string_view schema) {
  HistoryState state;
  for (const HistoryRow& row : rows) {  // installed_rank, version, description, type, checksum, success
    const std::string type = row.at(3).value_or("");
    if (type == "SCHEMA") continue;
    if (!is_true(row.at(5))) {
      state.refusal = fmt::format(
          "Schema \"{}\" contains a failed migration to version {} ! (Flyway: repair what it left, then `flyway "
          "repair`, "
          "which removes the failed row)",
          schema, row.at(1).value_or(row.at(2).value_or("?")));
      return state;
    }
    if (type == "BASELINE") {  // every migration up to the baseline counts as applied
      const std::string baseline = canonical_flyway_version(row.at(1).value_or("0")).value_or("0");
      for (const MigrationFile& file : files) {
        if (!file.repeatable && compare_flyway_versions(file.id, baseline) <= 0)
          state.applied.push_back({file.id, file.name, ""});
      }
      continue;
    }
    const std::string id =
        row.at(1) ? canonical_flyway_version(*row[1]).value_or(*row[1]) : "R:" + row.at(2).value_or("");
    state.applied.push_back({id, row.at(2).value_or(""), row.at(4).value_or("")});
  }
  return state;
}

HistoryState read_prisma(const std::vector<HistoryRow>& rows) {
  HistoryState state;
  for (const HistoryRow& row : rows) {  // migration_name, finished, rolled back, started_at
    if (is_true(row.at(2))) continue;   // rolled back: runs again
    const std::string name = row.at(0).value_or("");
    if (!is_true(row.at(1))) {
      state.refusal = fmt::format(
          "migrate found failed migrations in the target database, new migrations will not be applied: the `{}` "
          "migration started at {} failed (Prisma: P3009; repair what it left, then `prisma migrate resolve "
          "--rolled-back {}` to run it again, or `--applied {}` if it is in place)",
          name, row.at(3).value_or("?"), name, name);
      return state;
    }
    state.applied.push_back({name, name, ""});  // `migrate deploy` does not compare checksums
  }
  return state;
}

// golang-migrate's x-migrations-table: one name in current_schema(), or with x-migrations-table-quoted
// (strconv.ParseBool's true) `"table"` or `"schema"."table"`, as its postgres driver reads them.
ToolTable golang_migrate_table(const std::string& table, const std::string& quoted) {
  if (quoted != "1" && quoted != "t" && quoted != "T" && quoted != "true" && quoted != "TRUE" && quoted != "True")
    return ToolTable{"", table};
  std::vector<std::string> names;
  for (std::size_t open = table.find('"'); open != std::string::npos; open = table.find('"', open + 1)) {
    const std::size_t close = table.find('"', open + 1);
    if (close == std::string::npos) break;
    names.push_back(table.substr(open + 1, close - open - 1));
    open = close;
  }
  if (table.size() < 2 || table.front() != '"' || table.back() != '"' || names.empty() || names.size() > 2) {
    return ToolTable{"", "",
                     fmt::format("x-migrations-table must be quoted (for instance '\"migrate\".\"schema_migrations\"') "
                                 "when x-migrations-table-quoted is enabled, current value is: {}",
                                 table)};
  }
  return names.size() == 2 ? ToolTable{names[0], names[1]} : ToolTable{"", names[0]};
}

}  // namespace

ToolTable tool_table_for(MigrationFormat format, std::string_view option, std::string_view pginit_table,
                         const std::map<std::string, std::string>& environment) {
  auto split = [](std::string_view qualified) {
    const std::size_t dot = qualified.find('.');
    if (dot == std::string_view::npos) return ToolTable{"", std::string(qualified)};
    return ToolTable{std::string(qualified.substr(0, dot)), std::string(qualified.substr(dot + 1))};
  };
  auto setting = [&](const char* name) {
    auto found = environment.find(name);
    return found == environment.end() ? std::string() : found->second;
  };
  if (format == MigrationFormat::kPginit) return split(pginit_table);
  if (!option.empty()) return split(option);
  ToolTable table{"", std::string(ToolHistory::default_name(format))};
  if (format == MigrationFormat::kGolangMigrate && !setting("x-migrations-table").empty())
    table = golang_migrate_table(setting("x-migrations-table"), setting("x-migrations-table-quoted"));
  if (format == MigrationFormat::kGoose && !setting("GOOSE_TABLE").empty()) table = split(setting("GOOSE_TABLE"));
  if (format == MigrationFormat::kDbmate && !setting("DBMATE_MIGRATIONS_TABLE").empty())
    table = split(setting("DBMATE_MIGRATIONS_TABLE"));
  if (format == MigrationFormat::kFlyway) {
    if (!setting("FLYWAY_TABLE").empty()) table.name = setting("FLYWAY_TABLE");
    const std::string schemas = setting("FLYWAY_SCHEMAS");
    table.schema = !setting("FLYWAY_DEFAULT_SCHEMA").empty() ? setting("FLYWAY_DEFAULT_SCHEMA")
                                                             : schemas.substr(0, schemas.find(','));
  }
  return table;
}

std::string_view ToolHistory::default_name(MigrationFormat format) {
  switch (format) {
    case MigrationFormat::kPginit:
      return "pginit_migrations";
    case MigrationFormat::kGolangMigrate:
    case MigrationFormat::kDbmate:
      return "schema_migrations";
    case MigrationFormat::kGoose:
      return "goose_db_version";
    case MigrationFormat::kFlyway:
      return "flyway_schema_history";
    case MigrationFormat::kPrisma:
      return "_prisma_migrations";
  }
  return "";
}

std::string ToolHistory::quoted() const {
  return quote_identifier(table_.schema) + "." + quote_identifier(table_.name);
}

std::string ToolHistory::create_sql() const {
  const std::string table = quoted();
  switch (format_) {
    case MigrationFormat::kPginit:
      return HistoryTable{table_.schema, table_.name}.create_history_sql();
    case MigrationFormat::kGolangMigrate:
      return fmt::format("CREATE TABLE IF NOT EXISTS {} (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)",
                         table);
    case MigrationFormat::kGoose:
      return fmt::format(
          "CREATE TABLE IF NOT EXISTS {0} (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, version_id bigint "
          "NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NOT NULL DEFAULT now()); "
          "INSERT INTO {0} (version_id, is_applied) SELECT 0, true WHERE NOT EXISTS (SELECT FROM {0})",
          table);
    case MigrationFormat::kDbmate:
      return fmt::format("CREATE SCHEMA IF NOT EXISTS {}; CREATE TABLE IF NOT EXISTS {} (version varchar PRIMARY KEY)",
                         quote_identifier(table_.schema), table);
    case MigrationFormat::kFlyway:
      return fmt::format(
          "CREATE SCHEMA IF NOT EXISTS {0}; CREATE TABLE IF NOT EXISTS {1} ("
          "\"installed_rank\" INT NOT NULL CONSTRAINT {2} PRIMARY KEY, \"version\" VARCHAR(50), "
          "\"description\" VARCHAR(200) NOT NULL, \"type\" VARCHAR(20) NOT NULL, \"script\" VARCHAR(1000) NOT NULL, "
          "\"checksum\" INTEGER, \"installed_by\" VARCHAR(100) NOT NULL, \"installed_on\" TIMESTAMP NOT NULL DEFAULT "
          "now(), \"execution_time\" INTEGER NOT NULL, \"success\" BOOLEAN NOT NULL); "
          "CREATE INDEX IF NOT EXISTS {3} ON {1} (\"success\")",
          quote_identifier(table_.schema), table, quote_identifier(table_.name + "_pk"),
          quote_identifier(table_.name + "_s_idx"));
    case MigrationFormat::kPrisma:
      return fmt::format(
          "CREATE TABLE IF NOT EXISTS {} (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, "
          "finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ, "
          "started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0)",
          table);
  }
  return "";
}

std::string ToolHistory::select_sql() const {
  const std::string table = quoted();
  switch (format_) {
    case MigrationFormat::kPginit:
      return HistoryTable{table_.schema, table_.name}.select_sql();
    case MigrationFormat::kGolangMigrate:
      return fmt::format("SELECT version, dirty FROM {} LIMIT 1", table);
    case MigrationFormat::kGoose:
      return fmt::format("SELECT version_id, is_applied FROM {} ORDER BY id", table);
    case MigrationFormat::kDbmate:
      return fmt::format("SELECT version FROM {} ORDER BY version", table);
    case MigrationFormat::kFlyway:
      return fmt::format(
          "SELECT installed_rank, version, description, type, checksum, success FROM {} ORDER BY installed_rank",
          table);
    case MigrationFormat::kPrisma:
      return fmt::format(
          "SELECT migration_name, finished_at IS NOT NULL, rolled_back_at IS NOT NULL, started_at FROM {} "
          "ORDER BY started_at",
          table);
  }
  return "";
}

HistoryState ToolHistory::read(const std::vector<HistoryRow>& rows, const std::vector<MigrationFile>& files) const {
  HistoryState state;
  switch (format_) {
    case MigrationFormat::kPginit:
      for (const HistoryRow& row : rows)
        state.applied.push_back({row.at(0).value_or("0"), row.at(1).value_or(""), row.at(2).value_or("")});
      return state;
    case MigrationFormat::kGolangMigrate:
      return read_golang_migrate(rows, files);
    case MigrationFormat::kGoose:
      return read_goose(rows);
    case MigrationFormat::kDbmate:
      for (const HistoryRow& row : rows) state.applied.push_back({row.at(0).value_or(""), "", ""});
      return state;
    case MigrationFormat::kFlyway:
      return read_flyway(rows, files, table_.schema);
    case MigrationFormat::kPrisma:
      return read_prisma(rows);
  }
  return state;
}

std::string ToolHistory::before_sql(const MigrationFile& file) const {
  if (!file.no_transaction) return "";  // its row goes in the file's transaction: nothing to mark before
  if (format_ == MigrationFormat::kGolangMigrate) return set_golang_migrate_version(file.version, true);
  if (format_ == MigrationFormat::kPrisma) {
    return fmt::format(
        "INSERT INTO {} (id, checksum, migration_name, started_at, applied_steps_count) "
        "VALUES (gen_random_uuid()::text, {}, {}, now(), 0)",
        quoted(), quote_literal(file.checksum), quote_literal(file.id));
  }
  return "";
}

std::string ToolHistory::record_sql(const MigrationFile& file, std::int64_t duration_ms) const {
  const std::string table = quoted();
  switch (format_) {
    case MigrationFormat::kPginit:
      return HistoryTable{table_.schema, table_.name}.insert_sql(file.version, file.name, file.checksum, duration_ms);
    case MigrationFormat::kGolangMigrate:
      return set_golang_migrate_version(file.version, false);
    case MigrationFormat::kGoose:
      return fmt::format("INSERT INTO {} (version_id, is_applied) VALUES ({}, true)", table, file.version);
    case MigrationFormat::kDbmate:
      return fmt::format("INSERT INTO {} (version) VALUES ({})", table, quote_literal(file.id));
    case MigrationFormat::kFlyway:
      return fmt::format(
          "INSERT INTO {0} (installed_rank, version, description, type, script, checksum, installed_by, "
          "execution_time, "
          "success) SELECT coalesce(max(installed_rank), 0) + 1, {1}, {2}, 'SQL', {3}, {4}, current_user, {5}, true "
          "FROM {0}",
          table, file.repeatable ? "NULL" : quote_literal(file.written_as), quote_literal(abbreviated(file.name, 200)),
          quote_literal(abbreviated(file.filename, 1000)), file.checksum, duration_ms);
    case MigrationFormat::kPrisma:
      if (!file.no_transaction) {  // started and finished in the file's own transaction
        return fmt::format(
            "INSERT INTO {} (id, checksum, migration_name, started_at, finished_at, applied_steps_count) "
            "VALUES (gen_random_uuid()::text, {}, {}, now(), now(), 1)",
            table, quote_literal(file.checksum), quote_literal(file.id));
      }
      return fmt::format(
          "UPDATE {} SET applied_steps_count = applied_steps_count + 1, finished_at = now() "
          "WHERE migration_name = {} AND finished_at IS NULL AND rolled_back_at IS NULL",
          table, quote_literal(file.id));
  }
  return "";
}

// golang-migrate's SetVersion(v, dirty): its table's one row, written without dropping columns an
// application added to it (golang-migrate itself truncates and inserts).
std::string ToolHistory::set_golang_migrate_version(std::int64_t version, bool dirty) const {
  return fmt::format(
      "WITH changed AS (UPDATE {0} SET version = {1}, dirty = {2} RETURNING 1) "
      "INSERT INTO {0} (version, dirty) SELECT {1}, {2} WHERE NOT EXISTS (SELECT FROM changed)",
      quoted(), version, dirty ? "true" : "false");
}

std::string ToolHistory::failure_sql(const MigrationFile& file, std::string_view error) const {
  if (format_ == MigrationFormat::kPrisma && file.no_transaction) {
    return fmt::format(
        "UPDATE {} SET logs = {} WHERE migration_name = {} AND finished_at IS NULL AND rolled_back_at "
        "IS NULL",
        quoted(), quote_literal(error), quote_literal(file.id));
  }
  // Flyway writes a failed row only where the failure could not be rolled back (DbMigrate).
  if (format_ == MigrationFormat::kFlyway && file.no_transaction) {
    std::string row = record_sql(file, 0);
    return row.replace(row.rfind(", true"), 6, ", false");
  }
  return "";
}

std::vector<std::int64_t> ToolHistory::lock_keys(std::string_view database) const {
  switch (format_) {
    case MigrationFormat::kGolangMigrate:  // the CLI names the database "/db" (its URL's path), the library "db"
      return {golang_migrate_lock_key(table_.schema, table_.name, database),
              golang_migrate_lock_key(table_.schema, table_.name, fmt::format("/{}", database))};
    case MigrationFormat::kGoose:
      return {4097083626};
    case MigrationFormat::kFlyway:
      return {flyway_lock_key(quoted())};
    case MigrationFormat::kPrisma:
      return {72707369};
    case MigrationFormat::kPginit:
    case MigrationFormat::kDbmate:
      return {};
  }
  return {};
}

std::int64_t golang_migrate_lock_key(std::string_view schema, std::string_view table, std::string_view database) {
  const std::string joined = fmt::format("{}{}{}{}{}", schema, '\0', table, '\0', database);
  return static_cast<std::int64_t>(static_cast<std::uint32_t>(crc32_update(0, joined) * 1486364155u));
}

std::int64_t flyway_lock_key(std::string_view quoted_table) {
  std::int32_t hash = 0;  // String.hashCode: s[0]*31^(n-1) + … in 32-bit arithmetic
  for (unsigned char c : quoted_table) hash = static_cast<std::int32_t>(static_cast<std::uint32_t>(hash) * 31u + c);
  return 0x466C79776179LL + hash;
}

}  // namespace pginit
