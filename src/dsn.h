#pragma once
// Where the connection comes from, and keeping its password out of every line pginit prints.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "result.h"

namespace pginit {

/// The application_name pginit's sessions carry unless the DSN or PGAPPNAME names one.
inline constexpr std::string_view kFallbackApplicationName = "pginit";

/// Keyword/value pairs for PQconnectStartParams (expand_dbname = 0): already merged.
using ConnParams = std::vector<std::pair<std::string, std::string>>;

/// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// Values from the official postgres image's and the Django course's variables
/// (POSTGRES_HOST, DB_HOST, …); each fills a gap only (see build_conn_params).
struct AliasValues {
  std::optional<std::string> host, port, user, password, dbname;
};

/// Merges, lowest precedence first: libpq's defaults and PG* variables (left to libpq), then
/// `aliases` for every keyword whose PG* variable is unset in `env`, then every keyword that
/// `dsn` (URI or key=value) sets explicitly. Adds fallback_application_name=pginit.
/// A malformed DSN is a config error (78) whose text never contains the DSN's password.
Result<ConnParams> build_conn_params(const std::optional<std::string>& dsn, const AliasValues& aliases,
                                     const EnvLookup& env);

/// `params` with TCP keepalives (idle 10 s, interval 5 s, count 3) and tcp_user_timeout (30 s) for
/// every one of them the DSN does not set: a migration connection whose link died (a failover, a
/// dropped route) fails within about 30 s instead of waiting for a reply that never comes.
ConnParams with_keepalive_defaults(ConnParams params);

/// The value of `keyword` in `params`, if set.
std::optional<std::string> find_param(const ConnParams& params, std::string_view keyword);

/// "host:port/dbname as user" for log lines, from `params`, falling back to PG* variables and
/// libpq's defaults. Contains no password.
std::string describe_target(const ConnParams& params, const EnvLookup& env);

/// Replaces every occurrence of each secret (non-empty) with "***", and the password part of any
/// URI ("postgres://u:PASS@h") or key=value ("password=PASS") in `text`.
std::string redact(std::string_view text, const std::vector<std::string>& secrets);

}  // namespace pginit
