#pragma once
// The migration lock through a connection pooler: a transaction-level advisory lock on a
// connection of its own, in a transaction that stays open for as long as the lock is needed.
#include <cstdint>

#include <asio/steady_timer.hpp>

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
/// The lock is a lease: the lock's transaction runs with idle_in_transaction_session_timeout =
/// kLease, and while it is held pginit says something on it every kLease / 3. Should pginit's link
/// to the pooler die without a word reaching the pooler (packets dropped, a FIN lost), the pooler
/// would keep the server connection, and the lock, until its own keepalive noticed (two hours by
/// default); the server ends the transaction after kLease instead.
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

  /// Whether the lock's connection is still there and its lease renewed, checked without waiting:
  /// when it is gone, so is the lock, and another replica may take it.
  bool still_held();

  /// Ends the lease renewal, then the lock's transaction, and the lock with it, and closes its
  /// connection; the pooler then gives the server connection to other clients.
  Task<void> release();

  /// Stops the renewal and closes the connection without ending the transaction: the pooler drops
  /// the server connection it was in, and the lock ends with that server session. Does nothing when
  /// no lock is held. Every way out of the migrate phase goes through release() or abandon(), so
  /// that the renewal never outlives this object.
  Task<void> abandon();

 private:
  /// Renews the lease until stop_renewing(): a query every kLease / 3 on the lock's connection.
  Task<void> renew_lease();
  /// Stops renew_lease() and waits until it has returned, so that the connection is free.
  Task<void> stop_renewing();

  PgConn conn_;
  asio::steady_timer renewal_;      ///< the wait between two renewals
  asio::steady_timer renewed_;      ///< cancelled when renew_lease() returns
  bool renewing_ = false;           ///< renew_lease() runs
  bool renewal_in_flight_ = false;  ///< its query is on the connection: nobody else may read it
  bool stopping_ = false;
  bool lease_lost_ = false;
};

}  // namespace pginit
