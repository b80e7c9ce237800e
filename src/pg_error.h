#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "backoff.h"
#include "exit_code.h"

namespace pginit {

/// What to do about a failed attempt.
struct Verdict {
  bool transient = true;                     ///< retry (with backoff) or stop now
  Cost cost = Cost::kCostly;                 ///< for transient verdicts: how soon to retry
  ExitCode exit_code = ExitCode::kNotReady;  ///< for fatal verdicts: how pginit exits
  std::string reason;                        ///< short, e.g. "connection refused"
};

/// Classifies a failure. `sqlstate` is the server's code where there is one (query errors);
/// connection-time failures have none in libpq 15, so their `message` (PQerrorMessage) is matched
/// against the server's and libpq's English texts. Unknown failures are transient: waiting is
/// what pginit is for, and --timeout bounds it.
Verdict classify_failure(std::string_view sqlstate, std::string_view message);

/// True for the SQLSTATEs that mean the session is gone: class 08 (connection exception), 57P01
/// admin shutdown (also pg_terminate_backend), 57P02 crash shutdown, 57P03 cannot connect now.
bool is_connection_loss(std::string_view sqlstate);

/// The setting whose timeout ended a statement or a session, from the server's SQLSTATE (and, for
/// 57014 and 55P03, which a cancel or a NOWAIT also give, its message): statement_timeout, lock_timeout,
/// idle_in_transaction_session_timeout (25P03), transaction_timeout (25P04, 17+), idle_session_timeout
/// (57P05, 14+). nullopt for anything else.
std::optional<std::string_view> timeout_setting(std::string_view sqlstate, std::string_view message);

/// True when a pooler refused a transaction block because of its pool mode (PgBouncer's statement
/// pooling), as opposed to a BEGIN that failed for any other reason (a server that crashed, a lost link).
bool pooler_refuses_transactions(std::string_view message);

/// The useful part of a libpq error message: the last "…failed: " clause, first line, without
/// "FATAL:  " / "ERROR:  " prefixes. E.g. "connection refused" is left as libpq wrote it.
std::string short_reason(std::string_view message);

}  // namespace pginit
