#pragma once
// Applying one migration file over pginit's own connection.
#include "async.h"
#include "migrations/history.h"
#include "migrations/plan.h"
#include "pg_conn.h"

namespace pginit {

enum class ApplyStatus { kApplied, kFailed, kStopped };

/// Applies `file` statement by statement: inside one transaction together with its history row,
/// or, for "-- pginit:no-transaction" files, each statement on its own and the history row
/// last. On an SQL error rolls back, logs file, line, statement, SQLSTATE and message (and, for
/// CREATE INDEX CONCURRENTLY, how to drop the INVALID index it may leave). On a stop request,
/// cancels the running statement on the server; the caller then closes the connection.
Task<ApplyStatus> apply_migration(PgConn& conn, const MigrationFile& file, const HistoryTable& history);

}  // namespace pginit
