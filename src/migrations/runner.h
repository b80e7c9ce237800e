#pragma once
// Applying one migration file over pginit's own connection.
#include "async.h"
#include "migrations/history.h"
#include "migrations/plan.h"
#include "migrations/sql_split.h"
#include "pg_conn.h"

namespace pginit {

enum class ApplyStatus { kApplied, kFailed, kStopped };

/// The session settings of pginit's migration connection. Should pginit die mid-statement
/// (SIGKILL, OOM), the server notices within a second and ends the statement, its transaction and
/// the migration lock, instead of running it to completion (PG 14+).
inline constexpr std::string_view kMigrationSessionSql = "SET client_connection_check_interval = 1000";

/// Applies `file`, already split into `statements` (views into file.content), statement by
/// statement: inside one transaction together with its history row,
/// or, for "-- pginit:no-transaction" files, each statement on its own and the history row
/// last. Afterwards every setting the file made (a pg_dump's search_path = '', say) is reset, so
/// the next file starts from the connection's defaults as it would under psql. On an SQL error rolls back, logs file, line, statement, SQLSTATE and message (and, for
/// CREATE INDEX CONCURRENTLY, how to drop the INVALID index it may leave). On a stop request,
/// cancels the running statement on the server; the caller then closes the connection.
Task<ApplyStatus> apply_migration(PgConn& conn, const MigrationFile& file, const std::vector<SqlStatement>& statements,
                                  const HistoryTable& history);

}  // namespace pginit
