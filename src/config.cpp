#include "config.h"

#include <array>
#include <charconv>

#include <fmt/format.h>

#include "command_line.h"

namespace pginit {
namespace {

// What the options set before the connection parameters can be merged.
struct Draft {
  Config config;
  std::optional<std::string> dsn, migrate_dsn;
};

using Apply = std::optional<Failure> (*)(Draft&, std::string_view value);

struct OptionSpec {
  std::string_view name;      // without "--"
  std::string_view argument;  // "" for flags
  bool from_env;              // also read PGINIT_<NAME>
  Apply apply;
  std::string_view help;
};

std::optional<Failure> usage_error(std::string message) {
  return Failure{ExitCode::kUsage, std::move(message)};
}

std::optional<Failure> set_duration(Duration& target, std::string_view option, std::string_view value) {
  auto parsed = parse_duration(value);
  if (!parsed) return usage_error(fmt::format("--{}: {}", option, parsed.error()));
  target = *parsed;
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
               "libpq connection string or URI (default: DATABASE_URL, then PG* variables)"},
    OptionSpec{"timeout", "DUR", true,
               [](Draft& d, std::string_view v) { return set_duration(d.config.timeout, "timeout", v); },
               "give up waiting after DUR; 0 waits forever (default 60s)"},
    OptionSpec{
        "connect-timeout", "DUR", true,
        [](Draft& d, std::string_view v) { return set_duration(d.config.connect_timeout, "connect-timeout", v); },
        "limit for one connection attempt (default 5s)"},
    OptionSpec{"backoff-min", "DUR", true,
               [](Draft& d, std::string_view v) { return set_duration(d.config.backoff.min, "backoff-min", v); },
               "first delay between attempts (default 10ms)"},
    OptionSpec{"backoff-max", "DUR", true,
               [](Draft& d, std::string_view v) { return set_duration(d.config.backoff.max, "backoff-max", v); },
               "longest delay between attempts (default 2s)"},
    OptionSpec{"check", "", false, FLAG(config.check), "one attempt, no retry: exit 0 if ready, 69 if not"},
    OptionSpec{"ready-sql", "SQL", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 if (v.empty()) return usage_error("--ready-sql: empty query");
                 d.config.ready_sql = std::string(v);
                 return std::nullopt;
               },
               "ready when SQL succeeds and its first value is not false/NULL (default SELECT 1)"},
    OptionSpec{"no-wait", "", true, FLAG(config.no_wait), "skip the wait"},
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
               "log format on stderr (default text)"},
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
               "debug, info, warn or error (default info)"},
    OptionSpec{"quiet", "", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 auto parsed = parse_bool(v);
                 if (!parsed) return usage_error(fmt::format("--quiet: expected true or false, got \"{}\"", v));
                 if (*parsed) d.config.log_level = LogLevel::kError;
                 return std::nullopt;
               },
               "only errors"},
    OptionSpec{"exec", "", true, FLAG(config.supervision.exec),
               "replace pginit with COMMAND instead of supervising it"},
    OptionSpec{"group", "", true, FLAG(config.supervision.group), "forward signals to COMMAND's whole process group"},
    OptionSpec{
        "signal-rewrite", "FROM:TO,...", true,
        [](Draft& d, std::string_view v) { return set_parsed(d.config.supervision.rewrite, SignalRewrite::parse(v)); },
        "send TO instead of FROM (names or numbers; TO=0 drops FROM)"},
    OptionSpec{"grace", "DUR", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 Duration grace{};
                 if (auto failure = set_duration(grace, "grace", v)) return failure;
                 d.config.supervision.grace = grace;
                 return std::nullopt;
               },
               "SIGKILL COMMAND if it still runs DUR after a TERM/INT/QUIT (default off)"},
    OptionSpec{"remap-exit", "FROM:TO,...", true,
               [](Draft& d, std::string_view v) { return set_parsed(d.config.supervision.remap, ExitRemap::parse(v)); },
               "exit TO when COMMAND exits FROM (e.g. 143:0)"},
    OptionSpec{"migrations", "DIR", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 if (v.empty()) return usage_error("--migrations: empty directory name");
                 d.config.migrations.directory = std::string(v);
                 return std::nullopt;
               },
               "apply DIR/<version>_<name>.sql files not applied yet"},
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
               "history table (default public.pginit_migrations)"},
    OptionSpec{"allow-changed", "", true, FLAG(config.migrations.allow_changed),
               "go on (with a warning) when an applied file's checksum changed; it is not applied again"},
    OptionSpec{"strict-order", "", true, FLAG(config.migrations.strict_order),
               "fail (65) on a pending file older than the newest applied"},
    OptionSpec{"dry-run", "", false, FLAG(config.migrations.dry_run), "print the pending migrations and exit 0"},
    OptionSpec{"status", "", false, FLAG(config.migrations.status),
               "print applied/pending/changed migrations and exit 0"},
    OptionSpec{
        "migrate-cmd", "CMD", true,
        [](Draft& d, std::string_view v) { return set_parsed(d.config.migrations.command, split_command_line(v)); },
        "run CMD (shell-style words or a JSON array) under the migration lock"},
    OptionSpec{"migrate-fingerprint", "GLOB,...", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 d.config.migrations.fingerprint_globs = split_list(v);
                 return std::nullopt;
               },
               "skip --migrate-cmd while the files matching GLOB are unchanged since its last success"},
    OptionSpec{"force-migrate", "", true, FLAG(config.migrations.force),
               "run --migrate-cmd even if the fingerprint matches"},
    OptionSpec{"lock-key", "N", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 std::int64_t key = 0;
                 auto [end, error] = std::from_chars(v.data(), v.data() + v.size(), key);
                 if (error != std::errc{} || end != v.data() + v.size())
                   return usage_error(fmt::format("--lock-key: expected a 64-bit integer, got \"{}\"", v));
                 d.config.migrations.lock_key = key;
                 return std::nullopt;
               },
               "advisory lock key (default derived from database and table names)"},
    OptionSpec{
        "migrate-timeout", "DUR", true,
        [](Draft& d, std::string_view v) { return set_duration(d.config.migrations.timeout, "migrate-timeout", v); },
        "give up waiting for the migration lock after DUR (default: no limit)"},
    OptionSpec{"ddl-lock-timeout", "DUR", true,
               [](Draft& d, std::string_view v) {
                 return set_duration(d.config.migrations.ddl_lock_timeout, "ddl-lock-timeout", v);
               },
               "in a transactional file, wait at most DUR for each lock, then roll back and retry (default 5s, 0 off)"},
    OptionSpec{"ddl-lock-retries", "N", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 int retries = 0;
                 auto [end, error] = std::from_chars(v.data(), v.data() + v.size(), retries);
                 if (error != std::errc{} || end != v.data() + v.size() || retries < 0)
                   return usage_error(fmt::format("--ddl-lock-retries: expected a count (0 or more), got \"{}\"", v));
                 d.config.migrations.ddl_lock_retries = retries;
                 return std::nullopt;
               },
               "how often a file that hit --ddl-lock-timeout runs again before it fails (default 10)"},
    OptionSpec{"migrate-dsn", "DSN", true,
               [](Draft& d, std::string_view v) -> std::optional<Failure> {
                 d.migrate_dsn = std::string(v);
                 return std::nullopt;
               },
               "connection for migrations (direct, not through PgBouncer); default --dsn"},
    OptionSpec{"help", "", false, FLAG(config.show_help), "show this help"},
    OptionSpec{"version", "", false, FLAG(config.show_version), "show the version"},
};

#undef FLAG

const OptionSpec* find_option(std::string_view name) {
  for (const OptionSpec& option : kOptions) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

std::string env_name(std::string_view option) {
  std::string name = "PGINIT_";
  for (char c : option) name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

// The variable, or the content of the file named by NAME_FILE (one trailing newline stripped).
Result<std::optional<std::string>> lookup(const EnvLookup& env, const FileReader& read_file, const std::string& name) {
  if (auto value = env(name)) return std::optional<std::string>(*value);
  auto path = env(name + "_FILE");
  if (!path) return std::optional<std::string>();
  auto content = read_file(*path);
  if (!content)
    return Failure{ExitCode::kConfig, fmt::format("cannot read {}_FILE={}: {}", name, *path, content.error())};
  std::string value = std::move(*content);
  if (!value.empty() && value.back() == '\n') value.pop_back();
  if (!value.empty() && value.back() == '\r') value.pop_back();
  return std::optional<std::string>(std::move(value));
}

// The first of `names` that is set (directly or through _FILE).
Result<std::optional<std::string>> lookup_first(const EnvLookup& env, const FileReader& read_file,
                                                std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto value = lookup(env, read_file, name);
    if (!value || value->has_value()) return value;
  }
  return std::optional<std::string>();
}

std::optional<Failure> apply_environment(Draft& draft, const EnvLookup& env, const FileReader& read_file) {
  for (const OptionSpec& option : kOptions) {
    if (!option.from_env) continue;
    const std::string name = env_name(option.name);
    auto value = lookup(env, read_file, name);
    if (!value) return value.failure();
    if (!value->has_value()) continue;
    if (auto failure = option.apply(draft, **value)) {
      failure->message = fmt::format("{}: {}", name, failure->message);
      return failure;
    }
  }
  return std::nullopt;
}

std::optional<Failure> apply_arguments(Draft& draft, const std::vector<std::string>& args) {
  std::size_t index = 0;
  for (; index < args.size(); ++index) {
    std::string_view arg = args[index];
    if (arg == "--") {
      ++index;
      break;
    }
    if (arg == "-h") arg = "--help";
    if (arg.starts_with("-") && !arg.starts_with("--") && arg.size() > 1) {
      return usage_error(fmt::format("unknown option {}; options are long (--name), see pginit --help", arg));
    }
    if (!arg.starts_with("--")) break;  // the COMMAND starts here, as with tini and env(1)
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> inline_value;
    if (std::size_t equals = name.find('='); equals != std::string_view::npos) {
      inline_value = name.substr(equals + 1);
      name = name.substr(0, equals);
    }
    const OptionSpec* option = find_option(name);
    if (option == nullptr) return usage_error(fmt::format("unknown option --{}; see pginit --help", name));
    std::string_view value = "true";
    if (!option->argument.empty()) {
      if (inline_value) {
        value = *inline_value;
      } else if (index + 1 < args.size()) {
        value = args[++index];
      } else {
        return usage_error(fmt::format("--{} needs a value ({})", name, option->argument));
      }
    } else if (inline_value) {
      value = *inline_value;
    }
    if (auto failure = option->apply(draft, value)) {
      if (!failure->message.starts_with("--")) failure->message = fmt::format("--{}: {}", name, failure->message);
      return failure;
    }
  }
  draft.config.command.assign(args.begin() + static_cast<std::ptrdiff_t>(index), args.end());
  return std::nullopt;
}

// Checked once both are known, whichever of the environment and the command line set them.
std::optional<Failure> check_backoff(const BackoffPolicy& policy) {
  if (policy.min.count() <= 0) return usage_error("--backoff-min must be greater than 0");
  if (policy.min > policy.max) {
    return usage_error(fmt::format("--backoff-min ({}) is greater than --backoff-max ({})", format_duration(policy.min),
                                   format_duration(policy.max)));
  }
  return std::nullopt;
}

std::optional<Failure> check_consistency(const Config& config) {
  if (config.connect_timeout.count() <= 0) return usage_error("--connect-timeout must be greater than 0");
  const MigrationSettings& migrations = config.migrations;
  if ((migrations.dry_run || migrations.status) && !migrations.directory)
    return usage_error("--dry-run and --status need --migrations DIR");
  if (config.check && !config.command.empty()) return usage_error("--check takes no COMMAND");
  if (config.check && config.no_wait) return usage_error("--check and --no-wait contradict each other");
  if (!migrations.fingerprint_globs.empty() && migrations.command.empty())
    return usage_error("--migrate-fingerprint needs --migrate-cmd");
  if (config.supervision.exec && config.command.empty()) return usage_error("--exec needs a COMMAND");
  return std::nullopt;
}

void add_secret(std::vector<std::string>& secrets, const std::optional<std::string>& secret) {
  if (!secret || secret->empty()) return;
  for (const std::string& known : secrets) {
    if (known == *secret) return;
  }
  secrets.push_back(*secret);
}

std::optional<Failure> resolve_connection(Draft& draft, const EnvLookup& env, const FileReader& read_file) {
  Config& config = draft.config;
  if (!draft.dsn) {
    auto url = lookup(env, read_file, "DATABASE_URL");
    if (!url) return url.failure();
    draft.dsn = *url;
  }
  AliasValues aliases;
  struct AliasSource {
    std::optional<std::string> AliasValues::*field;
    std::initializer_list<const char*> names;
  };
  for (const AliasSource& source : {AliasSource{&AliasValues::host, {"POSTGRES_HOST", "DB_HOST"}},
                                    AliasSource{&AliasValues::port, {"POSTGRES_PORT", "DB_PORT"}},
                                    AliasSource{&AliasValues::user, {"POSTGRES_USER", "DB_USER"}},
                                    AliasSource{&AliasValues::password, {"POSTGRES_PASSWORD", "DB_PASS"}},
                                    AliasSource{&AliasValues::dbname, {"POSTGRES_DB", "DB_NAME"}}}) {
    auto value = lookup_first(env, read_file, source.names);
    if (!value) return value.failure();
    aliases.*source.field = *value;
  }
  add_secret(config.secrets, aliases.password);
  add_secret(config.secrets, env("PGPASSWORD"));

  auto params = build_conn_params(draft.dsn, aliases, env);
  if (!params) return params.failure();
  config.conn_params = *params;
  add_secret(config.secrets, find_param(config.conn_params, "password"));
  config.target = describe_target(config.conn_params, env);

  config.migrations.conn_params = with_keepalive_defaults(config.conn_params);
  config.migrations.target = config.target;
  if (draft.migrate_dsn) {
    auto migrate_params = build_conn_params(draft.migrate_dsn, aliases, env);
    if (!migrate_params) {
      Failure failure = migrate_params.failure();
      failure.message = "--migrate-dsn: " + failure.message;
      return failure;
    }
    config.migrations.conn_params = with_keepalive_defaults(*migrate_params);
    config.migrations.target = describe_target(*migrate_params, env);
    add_secret(config.secrets, find_param(*migrate_params, "password"));
  }
  return std::nullopt;
}

}  // namespace

Result<Config> parse_config(const std::vector<std::string>& args, const EnvLookup& env, const FileReader& read_file) {
  Draft draft;
  if (auto failure = apply_environment(draft, env, read_file)) return *failure;
  if (auto failure = apply_arguments(draft, args)) return *failure;
  if (draft.config.show_help || draft.config.show_version) return draft.config;
  if (auto failure = check_backoff(draft.config.backoff)) return *failure;
  if (auto failure = check_consistency(draft.config)) return *failure;
  if (auto failure = resolve_connection(draft, env, read_file)) {
    failure->message = redact(failure->message, draft.config.secrets);
    return *failure;
  }
  return draft.config;
}

std::string usage_text() {
  std::string text =
      "Usage: pginit [OPTIONS] [--] [COMMAND [ARG...]]\n\n"
      "Waits for Postgres, runs migrations once across replicas, then supervises COMMAND as PID 1.\n"
      "Without COMMAND it exits 0 when done (init-container mode).\n\nOptions (each also read from PGINIT_<NAME>):\n";
  for (const OptionSpec& option : kOptions) {
    std::string left = fmt::format("--{}{}{}", option.name, option.argument.empty() ? "" : " ", option.argument);
    text += fmt::format("  {:<32} {}\n", left, option.help);
  }
  text +=
      "\nExit codes: 0 ready/app's code, 64 usage, 65 migration failed, 69 not ready in time,\n"
      "77 authentication/permission, 78 configuration, 126/127 COMMAND not executable/not found,\n"
      "128+N stopped by signal N before the app started.\n";
  return text;
}

}  // namespace pginit
