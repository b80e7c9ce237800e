#pragma once
// What the migrations' connection goes through, found out over it: the server itself, or a pooler.
#include <optional>
#include <string>

#include "async.h"
#include "pg_conn.h"

namespace pginit {

struct SessionSetup {
  std::optional<PgFailure> failure;  ///< a query failed (the connection may be lost)
  std::optional<int> exit_code;      ///< refused: the exit code, its line already logged
};

/// Directly, or through a pooler: PgBouncer answers the login with a key of its own where the server
/// sends its process id, so pg_backend_pid() differs from what libpq was told. A direct session gets
/// migration_session_sql; a pooled one is marked pooled (the pooler then decides how the lock is
/// held and what the session may keep) and, when `ask_pool_mode`, is asked for a transaction:
/// statement pooling cannot run one, and a migration file is one (78, naming the pooler at `target`).
/// A pooled session left with pginit's fallback application_name is named `session_name` (the
/// lease's holder's: lease_session_name), so that waiters see its statements at work.
Task<SessionSetup> set_up_migration_session(PgConn& conn, const std::string& target, const std::string& session_name,
                                            bool ask_pool_mode);

}  // namespace pginit
