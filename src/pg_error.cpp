#include "pg_error.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

namespace pginit {
namespace {

struct Pattern {
  std::string_view needle;  // lower case
  Verdict verdict;
  std::string_view hint = {};  // appended to the reason: what to do about it
};

Verdict transient(Cost cost, std::string reason) {
  return {true, cost, ExitCode::kNotReady, std::move(reason)};
}
Verdict fatal(ExitCode code, std::string reason) {
  return {false, Cost::kCostly, code, std::move(reason)};
}

// Connection-time messages, from libpq (fe-connect.c) and the postmaster (postmaster.c, auth.c).
// Order matters: the first match wins, so specific texts come before generic ones.
const std::array kMessagePatterns{
    Pattern{"password authentication failed", fatal(ExitCode::kAuth, "password authentication failed")},
    Pattern{"no password supplied", fatal(ExitCode::kAuth, "no password supplied")},
    Pattern{"password is required", fatal(ExitCode::kAuth, "a password is required")},
    Pattern{"no pg_hba.conf entry", fatal(ExitCode::kAuth, "no pg_hba.conf entry allows this connection")},
    Pattern{"authentication failed", fatal(ExitCode::kAuth, "authentication failed")},
    // Before the SCRAM patterns: libpq's channel binding messages name SCRAM and authentication too.
    Pattern{"channel binding", fatal(ExitCode::kConfig, ""),
            "channel_binding=require needs TLS (sslmode=require or stronger) and a server that logs in by SCRAM"},
    // A SCRAM exchange that cannot succeed by trying again: the server did not prove that it knows
    // the password, or offered nothing libpq can log in with.
    Pattern{"incorrect server signature", fatal(ExitCode::kAuth, ""),
            "the server did not prove that it knows the password: is it the server you meant?"},
    Pattern{"over a non-ssl connection", fatal(ExitCode::kAuth, "")},
    Pattern{"scram", fatal(ExitCode::kAuth, "")},
    Pattern{"sasl authentication mechanisms", fatal(ExitCode::kAuth, "")},
    Pattern{"authentication not supported", fatal(ExitCode::kAuth, "")},
    Pattern{"authentication method", fatal(ExitCode::kAuth, "")},
    Pattern{"permission denied", fatal(ExitCode::kAuth, "permission denied")},
    Pattern{"must be superuser", fatal(ExitCode::kAuth, "permission denied")},
    Pattern{"does not have connect privilege", fatal(ExitCode::kAuth, "permission denied")},
    Pattern{"server does not support ssl", fatal(ExitCode::kConfig, "SSL required but the server does not support it")},
    Pattern{"ssl is not enabled on the server",
            fatal(ExitCode::kConfig, "SSL required but the server does not support it")},
    Pattern{"sslmode value \"require\" invalid",
            fatal(ExitCode::kConfig, "SSL required but this libpq has no SSL support")},
    Pattern{"could not look up local user id", fatal(ExitCode::kConfig, "no user name"),
            "no user in the connection settings and none for this uid in /etc/passwd: set the user in the DSN, "
            "PGUSER or DB_USER"},
    Pattern{"certificate verify failed", fatal(ExitCode::kConfig, "certificate verify failed"),
            "the server's certificate is not signed by the CA in sslrootcert"},
    Pattern{"does not match host name", fatal(ExitCode::kConfig, "certificate host name mismatch"),
            "connect by a name the certificate lists, or use sslmode=verify-ca"},
    Pattern{"root certificate file", fatal(ExitCode::kConfig, "root certificate file problem")},
    // libpq's "invalid channel_binding value: "x"" and the like, for every option with a fixed set of values.
    Pattern{" value: \"", fatal(ExitCode::kConfig, "")},
    Pattern{"invalid connection option", fatal(ExitCode::kConfig, "invalid connection option")},
    Pattern{"invalid uri", fatal(ExitCode::kConfig, "invalid connection URI")},
    Pattern{"missing \"=\"", fatal(ExitCode::kConfig, "malformed connection string")},
    Pattern{"invalid port number", fatal(ExitCode::kConfig, "invalid port number")},
    Pattern{"invalid integer value", fatal(ExitCode::kConfig, "invalid number in connection string")},
    Pattern{"invalid sslmode value", fatal(ExitCode::kConfig, "invalid sslmode")},
    Pattern{"definition of service", fatal(ExitCode::kConfig, "unknown service in connection string")},
    Pattern{"service file", fatal(ExitCode::kConfig, "service file problem")},
    Pattern{"the database system is starting up", transient(Cost::kCheap, "the database system is starting up")},
    Pattern{"the database system is not yet accepting connections",
            transient(Cost::kCheap, "the database system is not yet accepting connections")},
    Pattern{"the database system is not accepting connections",
            transient(Cost::kCheap, "the database system is not accepting connections")},
    Pattern{"the database system is in recovery mode",
            transient(Cost::kCheap, "the database system is in recovery mode")},
    Pattern{"the database system is shutting down", transient(Cost::kCheap, "the database system is shutting down")},
    Pattern{"connection refused", transient(Cost::kRefused, "connection refused")},
    Pattern{"no such file or directory", transient(Cost::kRefused, "no server socket yet")},
    Pattern{"too many clients", transient(Cost::kFull, "too many connections")},
    Pattern{"too many connections", transient(Cost::kFull, "too many connections")},
    Pattern{"remaining connection slots are reserved", transient(Cost::kFull, "too many connections")},
    Pattern{"could not translate host name", transient(Cost::kCostly, "host name not (yet) resolvable")},
    Pattern{"temporary failure in name resolution", transient(Cost::kCostly, "host name not (yet) resolvable")},
    Pattern{"name or service not known", transient(Cost::kCostly, "host name not (yet) resolvable")},
    Pattern{"no route to host", transient(Cost::kCostly, "no route to host")},
    Pattern{"network is unreachable", transient(Cost::kCostly, "network unreachable")},
    Pattern{"timed out", transient(Cost::kCostly, "connection attempt timed out")},
    Pattern{"timeout expired", transient(Cost::kCostly, "connection attempt timed out")},
    Pattern{"server closed the connection unexpectedly",
            transient(Cost::kCheap, "server closed the connection unexpectedly")},
    Pattern{"terminating connection", transient(Cost::kCheap, "server terminated the connection")},
    Pattern{"connection reset", transient(Cost::kCheap, "connection reset")},
};

// PgBouncer's own answers (sent as 08P01 whether the server is up or not): told apart by their
// words only, and before any SQLSTATE rule, since class 08 alone would mean "retry at once".
const std::array kPoolerPatterns{
    Pattern{"no such database", fatal(ExitCode::kConfig, ""),
            "add it to the pooler's [databases] section or fix the database name"},
    Pattern{"server login has been failing", transient(Cost::kPooler, "")},
    Pattern{"query_wait_timeout", transient(Cost::kPooler, "")},
    Pattern{"client_login_timeout", transient(Cost::kPooler, "")},
    Pattern{"pgbouncer cannot connect to server", transient(Cost::kPooler, "")},
};

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// The verdict of the first pattern found in `text` (lower case), its reason the message's own,
// after `prefix`, or followed by the pattern's hint.
template <std::size_t N>
std::optional<Verdict> first_match(const std::array<Pattern, N>& patterns, const std::string& text,
                                   const std::string& reason, std::string_view prefix) {
  for (const Pattern& pattern : patterns) {
    if (!contains(text, pattern.needle)) continue;
    Verdict verdict = pattern.verdict;
    verdict.reason = pattern.hint.empty() ? std::string(prefix) + reason : reason + "; " + std::string(pattern.hint);
    return verdict;
  }
  return std::nullopt;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

std::optional<Verdict> classify_sqlstate(std::string_view sqlstate, const std::string& reason) {
  if (sqlstate.size() != 5) return std::nullopt;
  const std::string_view sql_class = sqlstate.substr(0, 2);
  if (sqlstate == "28P01" || sql_class == "28" || sqlstate == "42501") return fatal(ExitCode::kAuth, reason);
  if (sqlstate == "3D000") return fatal(ExitCode::kConfig, reason);
  if (sqlstate == "57P03" || sqlstate == "57P01" || sqlstate == "57P02") return transient(Cost::kCheap, reason);
  if (sql_class == "08") return transient(Cost::kCheap, reason);
  if (sqlstate == "53300") return transient(Cost::kFull, reason);    // too many connections
  if (sql_class == "53") return transient(Cost::kCostly, reason);    // 53xxx: out of resources
  if (sqlstate == "57014") return transient(Cost::kCostly, reason);  // statement timeout / cancelled
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") return transient(Cost::kPolling, reason);
  // The ready-sql may name things another service has not created yet: keep waiting.
  if (sqlstate == "42P01" || sqlstate == "42703" || sqlstate == "42883" || sqlstate == "3F000")
    return transient(Cost::kPolling, reason);
  if (sql_class == "42" || sql_class == "22") return fatal(ExitCode::kConfig, reason);  // bad ready-sql
  return std::nullopt;
}

}  // namespace

std::string short_reason(std::string_view message) {
  // libpq: 'connection to server at "h" (1.2.3.4), port 5432 failed: FATAL:  x\n...'
  std::size_t failed = message.rfind("failed: ");
  std::string_view rest = failed == std::string_view::npos ? message : message.substr(failed + 8);
  rest = trim(rest);
  for (std::string_view prefix : {"FATAL:  ", "ERROR:  ", "FATAL: ", "ERROR: "}) {
    if (rest.starts_with(prefix)) rest.remove_prefix(prefix.size());
  }
  rest = rest.substr(0, rest.find('\n'));
  return std::string(trim(rest));
}

std::optional<std::string_view> timeout_setting(std::string_view sqlstate, std::string_view message) {
  if (sqlstate == "25P03") return "idle_in_transaction_session_timeout";
  if (sqlstate == "25P04") return "transaction_timeout";
  if (sqlstate == "57P05") return "idle_session_timeout";
  if (sqlstate == "57014" && contains(message, "statement timeout")) return "statement_timeout";
  if (sqlstate == "55P03" && contains(message, "lock timeout")) return "lock_timeout";
  return std::nullopt;
}

bool pooler_refuses_transactions(std::string_view message) {
  return contains(message, "not allowed in statement pooling mode");
}

bool is_connection_loss(std::string_view sqlstate) {
  return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
}

Verdict classify_failure(std::string_view sqlstate, std::string_view message) {
  std::string reason = short_reason(message);
  if (reason.empty()) reason = "unknown error";
  const std::string text = lower(message);
  if (sqlstate.empty() || sqlstate == "08P01") {
    if (auto verdict = first_match(kPoolerPatterns, text, reason, "the pooler says: ")) return *verdict;
  }
  if (auto verdict = classify_sqlstate(sqlstate, reason)) return *verdict;

  // "database "x" does not exist" vs "role "x" does not exist": both end the same way.
  if (contains(text, "database \"") && contains(text, "does not exist")) return fatal(ExitCode::kConfig, reason);
  if (contains(text, "role \"") && contains(text, "does not exist")) return fatal(ExitCode::kAuth, reason);
  if (auto verdict = first_match(kMessagePatterns, text, reason, "")) return *verdict;
  return transient(Cost::kCostly, reason);
}

}  // namespace pginit
