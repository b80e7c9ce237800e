#pragma once
// argv + environment -> Config: the first step of the pipeline, and a pure function.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backoff.h"
#include "dsn.h"
#include "duration.h"
#include "migrations/formats/formats.h"
#include "result.h"
#include "signals.h"

namespace pginit {

enum class LogFormat { kText, kJson };
enum class LogLevel { kDebug, kInfo, kWarn, kError };

/// Reads a whole file (for *_FILE variables); an error message (errno text) on failure.
using FileReader = std::function<Result<std::string>(const std::string& path)>;

inline constexpr std::string_view kDefaultReadySql = "SELECT 1";

struct MigrationSettings {
  std::optional<std::string> directory;            ///< --migrations
  std::string table = "public.pginit_migrations";  ///< --migrations-table, validated SCHEMA.NAME
  std::vector<std::string> command;                ///< --migrate-cmd, split into argv
  std::vector<std::string> fingerprint_globs;      ///< --migrate-fingerprint
  std::optional<std::int64_t> lock_key;            ///< --lock-key
  Duration timeout{0};                             ///< --migrate-timeout, 0 = no limit
  Duration ddl_lock_timeout{5000};                 ///< --ddl-lock-timeout, 0 = off
  int ddl_lock_retries = 10;                       ///< --ddl-lock-retries
  int spare_connections = 0;                       ///< --spare-connections: slots a waiter leaves free
  bool allow_changed = false, strict_order = false, force = false;
  bool dry_run = false, status = false;
  ConnParams conn_params;                 ///< --migrate-dsn, else the wait's params; with TCP keepalive defaults
  std::string target;                     ///< conn_params described for logs
  bool own_dsn = false;                   ///< --migrate-dsn was given
  std::optional<MigrationFormat> format;  ///< --migrations-format; nullopt = auto
  std::string history_table;              ///< --history-table [SCHEMA.]NAME: the format's history table
  FormatOptions format_options;           ///< the tools' own environment (FLYWAY_*, GOOSE_*, DBMATE_*)
  std::map<std::string, std::string> url_parameters;  ///< the tools' x-… parameters from the DSN (tool_url.h)

  bool enabled() const { return directory.has_value() || !command.empty(); }
};

struct SupervisionSettings {
  bool exec = false;   ///< --exec: replace pginit with the command
  bool group = false;  ///< --group: forward to the child's whole process group
  SignalRewrite rewrite;
  ExitRemap remap;
  std::optional<Duration> grace;
};

struct Config {
  ConnParams conn_params;
  std::string target;                ///< "host:port/db as user", for logs
  std::vector<std::string> secrets;  ///< every password seen: redacted from all output
  Duration timeout{60'000};
  Duration connect_timeout{5'000};
  BackoffPolicy backoff;
  bool check = false, no_wait = false;
  std::string ready_sql{kDefaultReadySql};
  LogFormat log_format = LogFormat::kText;
  LogLevel log_level = LogLevel::kInfo;
  bool show_help = false, show_version = false;
  std::optional<std::string> user;  ///< --user USER[:GROUP]: become this user after reading the configuration
  MigrationSettings migrations;
  SupervisionSettings supervision;
  std::vector<std::string> command;  ///< COMMAND [ARG...]; empty = init-container mode

  /// The wait's session goes on into the migrations, one login per replica instead of two (half
  /// the forks and SCRAM exchanges a herd costs the server): same server and role, and a ready
  /// query that leaves the session as it found it (a --ready-sql of the user's might not).
  bool wait_session_serves_migrations() const {
    return migrations.enabled() && !migrations.own_dsn && ready_sql == kDefaultReadySql && !no_wait && !check;
  }
};

/// Builds the Config from `args` (argv without argv[0]), `env` and `read_file`. Precedence:
/// command line > PGINIT_* (or PGINIT_*_FILE) > DATABASE_URL(_FILE) > PG* (libpq) >
/// POSTGRES_* / DB_* (and their _FILE forms) > libpq's defaults; a value inside the DSN wins over
/// every variable. Errors: usage (64) or config (78), one line, never containing a password.
Result<Config> parse_config(const std::vector<std::string>& args, const EnvLookup& env, const FileReader& read_file);

/// The --help text.
std::string usage_text();

}  // namespace pginit
