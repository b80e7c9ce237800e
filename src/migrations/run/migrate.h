#pragma once
// The migrate phase: SQL files, then the migrate command, once across replicas.
#include "async.h"
#include "config.h"
#include "pg_conn.h"
#include "stop.h"
#include "supervise.h"

namespace pginit {

struct MigrationOutcome {
  int exit_code = 0;  ///< 0, or the exit code to end with (65, 69, 77, 78, 128+N)
  int applied = 0;    ///< migration files this run applied
};

/// Runs the migrate phase described by config.migrations: loads and checks the files, connects
/// (waiting for a primary), takes the advisory lock unless there is provably nothing to do,
/// applies pending files, runs the migrate command unless its fingerprint is unchanged, releases
/// the lock. When the connection is lost on the way (a restart, a failover, a terminated backend,
/// a dead link), it waits for the primary again and starts over from the top; an interrupted
/// transaction was rolled back by the server, so nothing is applied twice. --dry-run / --status
/// print and change nothing. Logs its own errors. `conn` may come connected (the wait phase's
/// session, to config.migrations.conn_params): it is checked and used instead of a new login.
Task<MigrationOutcome> run_migrations(const Config& config, PgConn& conn, Supervisor& supervisor, StopRequest& stop);

}  // namespace pginit
