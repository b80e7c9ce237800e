#include "options.h"

#include <array>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "command_line.h"

namespace pginit {
namespace {

std::optional<Failure> set_duration(Duration& target, std::string_view option, std::string_view value) {
  auto parsed = parse_duration(value);
  if (!parsed) return usage_error(fmt::format("--{}: {}", option, parsed.error()));
  target = *parsed;
  return std::nullopt;
}

std::optional<Failure> set_count(int& target, std::string_view option, std::string_view value) {
  int count = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), count);
  if (error != std::errc{} || end != value.data() + value.size() || count < 0)
    return usage_error(fmt::format("--{}: expected a count (0 or more), got \"{}\"", option, value));
  target = count;
  return std::nullopt;
}

template <class T>
std::optional<Failure> set_parsed(T& target, const Result<T>& parsed) {
  if (!parsed) return parsed.failure();
  target = *parsed;
  return std::nullopt;
}

std::optional<bool> parse_bool(std::string_view value) {
  for (std::string_view yes : {"1", "true", "yes", "on", "TRUE", "True", "YES", "ON"})
    if (value == yes) return true;
  for (std::string_view no : {"0", "false", "no", "off", "", "FALSE", "False", "NO", "OFF"})
    if (value == no) return false;
  return std::nullopt;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (!item.empty()) items.emplace_back(item);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return items;
}

bool is_identifier(std::string_view text) {
  if (text.empty() || text.size() > 63) return false;
  if (!(std::isalpha(static_cast<unsigned char>(text[0])) || text[0] == '_')) return false;
  for (char c : text) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

#define FLAG(field)                                                                        \
  [](Draft& d, std::string_view v) -> std::optional<Failure> {                             \
    auto parsed = parse_bool(v);                                                           \
    if (!parsed) return usage_error(fmt::format("expected true or false, got \"{}\"", v)); \
    d.field = *parsed;                                                                     \
    return std::nullopt;                                                                   \
  }

const std::array kOptions{
    OptionSpec{"dsn", "DSN", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 d.dsn = std::string(v);
                 return std::nullopt;
               },
               "libpq connection string or URI (postgres://…, host=… port=…)",
               "DATABASE_URL, then libpq's PG* variables"},
    OptionSpec{"timeout", "DUR", true,
               [](Draft& d, std::string_view v) { return set_duration(d.config.timeout, "timeout", v); },
               "give up waiting after DUR; 0 waits forever", "60s"},
    OptionSpec{
        "connect-timeout", "DUR", true,
        [](Draft& d, std::string_view v) { return set_duration(d.config.connect_timeout, "connect-timeout", v); },
        "limit for one attempt (connect + ready query), enforced by pginit's timer", "5s"},
    OptionSpec{"backoff-min", "DUR", true,
               [](Draft& d, std::string_view v) { return set_duration(d.config.backoff.min, "backoff-min", v); },
               "first delay between attempts", "10ms"},
    OptionSpec{"backoff-max", "DUR", true,
               [](Draft& d, std::string_view v) { return set_duration(d.config.backoff.max, "backoff-max", v); },
               "longest delay between attempts (after \"too many clients\": 8 s, or this when longer)", "2s"},
    OptionSpec{"check", "", false, FLAG(config.check),
               "one attempt, no retry: exit 0 if ready, 69 if not (HEALTHCHECK, readiness probes)", "off"},
    OptionSpec{
        "ready-sql", "SQL", true,
        [](Draft& d, std::string_view v) -> std::optional<Failure> {
          if (v.empty()) return usage_error("--ready-sql: empty query");
          d.config.ready_sql = std::string(v);
          return std::nullopt;
        },
        "ready when SQL succeeds and its first value is not false/NULL/no row (a command without rows counts as ready)",
        kDefaultReadySql},
    OptionSpec{"no-wait", "", true, FLAG(config.no_wait),
               "skip the wait (migrations still wait for their own connection)", "off"},
    OptionSpec{"log-format", "text|json", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 if (v == "text")
                   d.config.log_format = LogFormat::kText;
                 else if (v == "json")
                   d.config.log_format = LogFormat::kJson;
                 else
                   return usage_error(fmt::format("--log-format: expected text or json, got \"{}\"", v));
                 return std::nullopt;
               },
               "logs on stderr", "text"},
    OptionSpec{"log-level", "LEVEL", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 if (v == "debug")
                   d.config.log_level = LogLevel::kDebug;
                 else if (v == "info")
                   d.config.log_level = LogLevel::kInfo;
                 else if (v == "warn" || v == "warning")
                   d.config.log_level = LogLevel::kWarn;
                 else if (v == "error")
                   d.config.log_level = LogLevel::kError;
                 else
                   return usage_error(fmt::format("--log-level: expected debug, info, warn or error, got \"{}\"", v));
                 return std::nullopt;
               },
               "debug, info, warn, error", "info"},
    OptionSpec{"quiet", "", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 auto parsed = parse_bool(v);
                 if (!parsed) return usage_error(fmt::format("--quiet: expected true or false, got \"{}\"", v));
                 if (*parsed) d.config.log_level = LogLevel::kError;
                 return std::nullopt;
               },
               "only errors", "off"},
    OptionSpec{"user", "USER[:GROUP]", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 d.config.user = std::string(v);
                 return std::nullopt;
               },
               "once the configuration and *_FILE secrets are read, become USER (and GROUP), as gosu does: pginit, the "
               "migrate command and COMMAND then run as that user, with HOME from /etc/passwd",
               ""},
    OptionSpec{"exec", "", true, FLAG(config.supervision.exec),
               "replace pginit with COMMAND (execvp) instead of supervising it", "off"},
    OptionSpec{"group", "", true, FLAG(config.supervision.group), "forward signals to COMMAND's whole process group",
               "off"},
    OptionSpec{
        "signal-rewrite", "FROM:TO,...", true,
        [](Draft& d, std::string_view v) { return set_parsed(d.config.supervision.rewrite, SignalRewrite::parse(v)); },
        "send TO instead of FROM (names or numbers); TO = 0 drops FROM", "none"},
    OptionSpec{"grace", "DUR", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 Duration grace{};
                 if (auto failure = set_duration(grace, "grace", v)) return failure;
                 d.config.supervision.grace = grace;
                 return std::nullopt;
               },
               "SIGKILL COMMAND if it still runs DUR after a TERM/INT/QUIT", "off"},
    OptionSpec{"remap-exit", "FROM:TO,...", true,
               [](Draft& d, std::string_view v) { return set_parsed(d.config.supervision.remap, ExitRemap::parse(v)); },
               "exit TO when COMMAND exits FROM (e.g. 143:0 for a JVM)", "none"},
    OptionSpec{"migrations", "DIR", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 if (v.empty()) return usage_error("--migrations: empty directory name");
                 d.config.migrations.directory = std::string(v);
                 return std::nullopt;
               },
               "apply DIR/<version>_<name>.sql files not applied yet", "none"},
    OptionSpec{"migrations-table", "SCHEMA.NAME", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 std::size_t dot = v.find('.');
                 std::string_view schema = dot == std::string_view::npos ? "public" : v.substr(0, dot);
                 std::string_view name = dot == std::string_view::npos ? v : v.substr(dot + 1);
                 if (!is_identifier(schema) || !is_identifier(name))
                   return usage_error(
                       fmt::format("--migrations-table: \"{}\" is not SCHEMA.NAME (letters, digits, _)", v));
                 d.config.migrations.table = fmt::format("{}.{}", schema, name);
                 return std::nullopt;
               },
               "history table", "public.pginit_migrations"},
    OptionSpec{
        "migrations-format", "FORMAT", true,
        [](Draft& d, std::string_view v) { return set_parsed(d.config.migrations.format, parse_migrations_format(v)); },
        "the tool --migrations was written for: auto, pginit, golang-migrate, goose, dbmate, flyway, prisma",
        "auto (recognised from names and markers)"},
    OptionSpec{"history-table", "[SCHEMA.]NAME", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 std::size_t dot = v.find('.');
                 std::string_view schema = dot == std::string_view::npos ? "" : v.substr(0, dot);
                 std::string_view name = dot == std::string_view::npos ? v : v.substr(dot + 1);
                 if ((dot != std::string_view::npos && !is_identifier(schema)) || !is_identifier(name))
                   return usage_error(
                       fmt::format("--history-table: \"{}\" is not [SCHEMA.]NAME (letters, digits, _)", v));
                 d.config.migrations.history_table = std::string(v);
                 return std::nullopt;
               },
               "another tool's history table (--migrations-format): where its own setup keeps it",
               "the tool's own name (GOOSE_TABLE, DBMATE_MIGRATIONS_TABLE, FLYWAY_TABLE too), in current_schema()"},
    OptionSpec{"allow-changed", "", true, FLAG(config.migrations.allow_changed),
               "go on (with a warning) when an applied file's checksum changed; it is not applied again", "off"},
    OptionSpec{"strict-order", "", true, FLAG(config.migrations.strict_order),
               "a pending file older than the newest applied one fails (65) instead of warning", "off"},
    OptionSpec{"dry-run", "", false, FLAG(config.migrations.dry_run),
               "print the pending files and exit 0, changing nothing", "off"},
    OptionSpec{"status", "", false, FLAG(config.migrations.status),
               "print applied / pending / changed / missing files and exit 0", "off"},
    OptionSpec{
        "migrate-cmd", "CMD", true,
        [](Draft& d, std::string_view v) { return set_parsed(d.config.migrations.command, split_command_line(v)); },
        "run CMD under the migration lock (shell-style words or a JSON array)", "none"},
    OptionSpec{"migrate-fingerprint", "GLOB,...", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 d.config.migrations.fingerprint_globs = split_list(v);
                 return std::nullopt;
               },
               "skip --migrate-cmd while the matching files are unchanged since it last succeeded", "none"},
    OptionSpec{"force-migrate", "", true, FLAG(config.migrations.force),
               "run --migrate-cmd even if the fingerprint matches", "off"},
    OptionSpec{"lock-key", "N", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 std::int64_t key = 0;
                 auto [end, error] = std::from_chars(v.data(), v.data() + v.size(), key);
                 if (error != std::errc{} || end != v.data() + v.size())
                   return usage_error(fmt::format("--lock-key: expected a 64-bit integer, got \"{}\"", v));
                 d.config.migrations.lock_key = key;
                 return std::nullopt;
               },
               "advisory lock key (signed 64-bit)", "derived from the database and table names"},
    OptionSpec{
        "migrate-timeout", "DUR", true,
        [](Draft& d, std::string_view v) { return set_duration(d.config.migrations.timeout, "migrate-timeout", v); },
        "give up waiting for the lock (and for a primary; without it, --timeout bounds that) after DUR (exit 69)",
        "no limit"},
    OptionSpec{
        "ddl-lock-timeout", "DUR", true,
        [](Draft& d,
           std::string_view v) { return set_duration(d.config.migrations.ddl_lock_timeout, "ddl-lock-timeout", v); },
        "in a transactional file, wait at most DUR for each lock, then roll back and retry the file; 0 = off", "5s"},
    OptionSpec{
        "ddl-lock-retries", "N", true,
        [](Draft& d,
           std::string_view v) { return set_count(d.config.migrations.ddl_lock_retries, "ddl-lock-retries", v); },
        "how often a file that hit --ddl-lock-timeout runs again before it fails (65)", "10"},
    OptionSpec{
        "spare-connections", "N", true,
        [](Draft& d,
           std::string_view v) { return set_count(d.config.migrations.spare_connections, "spare-connections", v); },
        "connection slots that a replica waiting for the migration lock leaves free: with fewer free it "
        "closes its connection and tries again later, so that running applications keep theirs during "
        "a deploy; 0: always wait connected",
        "0"},
    OptionSpec{"migrate-dsn", "DSN", true,
               [](Draft& d, std::string_view v) -> std::
                                                    optional<Failure> {
                                                      d.migrate_dsn = std::string(v);
                                                      return std::nullopt;
                                                    },
               "another connection for migrations (rarely needed: through PgBouncer, --dsn works as it is)", "--dsn"},
    OptionSpec{"help", "", false, FLAG(config.show_help), "show this help", ""},
    OptionSpec{"version", "", false, FLAG(config.show_version),
               "show the version, libpq's and OpenSSL's, and whether the build is static", ""},
};

#undef FLAG

}  // namespace

std::string environment_variable(std::string_view option) {
  std::string name = "PGINIT_";
  for (char c : option) name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

std::optional<Failure> usage_error(std::string message) {
  return Failure{ExitCode::kUsage, std::move(message)};
}

std::span<const OptionSpec> option_table() {
  return kOptions;
}

const OptionSpec* find_option(std::string_view name) {
  for (const OptionSpec& option : kOptions) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

}  // namespace pginit
