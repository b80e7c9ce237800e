#include "config.h"

#include <fmt/format.h>

#include "options.h"
#include "tool_url.h"

namespace pginit {
namespace {

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
  for (const OptionSpec& option : option_table()) {
    if (!option.from_env) continue;
    const std::string name = environment_variable(option.name);
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

  // Another migration tool's URL works as it is: its parameters are taken out for libpq.
  std::optional<std::string> dsn = draft.dsn;
  if (dsn) {
    ToolUrl url = take_tool_url_parameters(*dsn);
    dsn = std::move(url.dsn);
    config.migrations.url_parameters = std::move(url.parameters);
  }
  auto params = build_conn_params(dsn, aliases, env);
  if (!params) return params.failure();
  config.conn_params = *params;
  add_secret(config.secrets, find_param(config.conn_params, "password"));
  config.target = describe_target(config.conn_params, env);

  config.migrations.conn_params = with_keepalive_defaults(config.conn_params);
  config.migrations.target = config.target;
  if (draft.migrate_dsn) {
    ToolUrl url = take_tool_url_parameters(*draft.migrate_dsn);
    for (auto& [key, value] : url.parameters) config.migrations.url_parameters[key] = std::move(value);
    auto migrate_params = build_conn_params(url.dsn, aliases, env);
    if (!migrate_params) {
      Failure failure = migrate_params.failure();
      failure.message = "--migrate-dsn: " + failure.message;
      return failure;
    }
    config.migrations.conn_params = with_keepalive_defaults(*migrate_params);
    config.migrations.target = describe_target(*migrate_params, env);
    config.migrations.own_dsn = true;
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
  for (const OptionSpec& option : option_table()) {
    std::string left = fmt::format("--{}{}{}", option.name, option.argument.empty() ? "" : " ", option.argument);
    text += fmt::format("  {:<32} {}{}\n", left, option.help,
                        option.shows_default() ? fmt::format(" (default {})", option.default_value) : "");
  }
  text +=
      "\nExit codes: 0 ready/app's code, 64 usage, 65 migration failed, 69 not ready in time,\n"
      "77 authentication/permission, 78 configuration, 126/127 COMMAND not executable/not found,\n"
      "128+N stopped by signal N before the app started.\n";
  return text;
}

}  // namespace pginit
