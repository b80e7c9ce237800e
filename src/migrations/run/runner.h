#pragma once
// Applying one migration file over pginit's own connection.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "async.h"
#include "backoff.h"
#include "migrations/formats/plan.h"
#include "migrations/formats/sql_split.h"
#include "migrations/history/tool_history.h"
#include "pg_conn.h"

namespace pginit {

/// kLeaseLost: through a pooler, the lease was no longer this replica's when the file began (another
/// replica took it over): nothing of the file was applied, and the phase starts over.
enum class ApplyStatus { kApplied, kFailed, kStopped, kConnectionLost, kLeaseLost };

struct ApplyOptions {
  Duration lock_timeout{5000};  ///< --ddl-lock-timeout: SET LOCAL lock_timeout in transactional files; 0 = off
  int lock_retries = 10;        ///< --ddl-lock-retries: how often a file that timed out is run again
  BackoffPolicy backoff;        ///< the delay between those runs
  /// Set when an earlier run of the phase lost its connection during this no-transaction file,
  /// at this (1-based) statement: a failure now is probably a statement that did commit then.
  std::optional<std::size_t> interrupted_at;
  /// Through a pooler: the statement that renews this replica's lease and returns a row while it is
  /// still ours (MigrationLease::renew_sql). A transactional file runs it first in its transaction, so
  /// that it commits only under the lease and keeps the lease's row until it ends; a no-transaction
  /// file before each statement. Empty directly, where the advisory lock is held by the session.
  std::string lease_fence;
};

struct ApplyResult {
  ApplyStatus status = ApplyStatus::kApplied;
  std::size_t statement = 0;  ///< for kConnectionLost: the 1-based statement in flight (0: before the first)
  std::string reason;         ///< for kConnectionLost: what the connection said; for kFailed: the error
};

/// Applies `file`, already split into `statements` (views into file.content): inside one
/// transaction together with its history row, all statements sent at once as one pipeline (each
/// still a statement of its own on the server, as psql sends them); or, for
/// "-- pginit:no-transaction" files, statement by statement, each on its own, the history row last.
/// Afterwards every setting the file made (a pg_dump's search_path = '', say) is reset, so the next
/// file starts from the connection's defaults as it would under psql.
/// A transactional file whose statement waits longer than options.lock_timeout for a lock
/// (55P03) is rolled back and run again after a backoff, up to options.lock_retries times; the
/// sessions that blocked it are logged. On an SQL error rolls back and logs file, line, statement,
/// SQLSTATE and message (for CREATE INDEX CONCURRENTLY also how to drop the INVALID index it may
/// leave). A lost connection is not logged here: the caller retries the phase. On a stop request,
/// cancels the running statement on the server; the caller then closes the connection. Through a
/// pooler a transaction whose fence finds the lease gone is rolled back (kLeaseLost); every failure
/// that ends the file is logged on one line, whatever the step.
Task<ApplyResult> apply_migration(PgConn& conn, const MigrationFile& file, const std::vector<SqlStatement>& statements,
                                  const ToolHistory& history, const ApplyOptions& options);

}  // namespace pginit
