#pragma once
// The migration lock through a connection pooler: a transaction-level advisory lock on a
// connection of its own, in a transaction that stays open for as long as the lock is needed.
#include <cstdint>

#include "async.h"
#include "backoff.h"
#include "migrations/lock.h"
#include "pg_conn.h"

namespace pginit {

/// Behind a transaction-pooling pooler (PgBouncer) a session-level lock is taken on whichever
/// server connection served that one statement: the next statement may run elsewhere, and the lock
/// stays behind on an idle pooled connection after pginit has gone. A pooler never moves a client
/// to another server connection inside a transaction, so an open transaction holding
/// pg_advisory_xact_lock pins one server connection, and its lock ends with it: at COMMIT, at
/// ROLLBACK, or when pginit dies and the pooler drops the server connection it left in a
/// transaction. Works with session pooling as well.
class PooledMigrationLock {
 public:
  explicit PooledMigrationLock(asio::any_io_executor executor);

  /// Connects a connection of its own with `params` and tries, each time in a fresh READ COMMITTED
  /// transaction with idle_in_transaction_session_timeout off, pg_try_advisory_xact_lock(key),
  /// until it holds (the transaction then stays open), `timeout` passes (0 = none) or a stop
  /// request. Waiters poll with the backoff: a pooler does not pass NOTIFY on. While waiting, logs
  /// who holds the lock, asking over `observer`. A failed connect is a lost connection.
  Task<LockOutcome> acquire(const ConnParams& params, Duration connect_timeout, std::int64_t key, Duration timeout,
                            const BackoffPolicy& backoff, PgConn& observer);

  /// Whether the lock's connection is still there, checked without waiting: when it is gone, so
  /// is the lock, and another replica may take it.
  bool still_held();

  /// Ends the lock's transaction, and the lock with it, and closes its connection; the pooler
  /// then gives the server connection to other clients.
  Task<void> release();

  /// Closes the connection without ending the transaction: the pooler drops the server connection
  /// it was in, and the lock ends with that server session.
  void abandon();

 private:
  PgConn conn_;
};

}  // namespace pginit
