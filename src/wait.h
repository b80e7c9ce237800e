#pragma once
// The wait phase: attempts, backoff, deadline, progress logging.
#include <string>

#include "async.h"
#include "backoff.h"
#include "dsn.h"
#include "exit_code.h"
#include "pg_conn.h"

namespace pginit {

struct WaitRequest {
  const ConnParams& params;
  std::string target;     ///< for log lines, no password
  std::string ready_sql;  ///< ready when it succeeds and its first value is not false/NULL
  std::string not_ready_reason = "ready-sql returned false, NULL or no row";
  Duration timeout{0};  ///< the whole wait; 0 = no limit
  Duration connect_timeout{5000};
  BackoffPolicy backoff;
  bool single_attempt = false;       ///< --check
  std::string purpose = "postgres";  ///< "postgres" or "the primary (for migrations)", for log lines
  bool announce = true;              ///< start and ready lines at info (else debug); progress and errors always
};

struct WaitOutcome {
  bool ready = false;
  bool stopped = false;  ///< a stop request ended the wait
  ExitCode code = ExitCode::kOk;
};

/// Attempts until ready, a fatal verdict, the deadline, or a stop request. On success `conn` is
/// left connected (the migrate phase keeps using it). A `conn` that comes connected (to
/// request.params) is asked first, without a new login. Logs its own progress and final error.
Task<WaitOutcome> wait_until_ready(PgConn& conn, const WaitRequest& request);

}  // namespace pginit
