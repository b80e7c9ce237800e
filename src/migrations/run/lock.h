#pragma once
// The session-level advisory lock that makes migrations run once across replicas.
#include <cstdint>
#include <optional>
#include <string>

#include "async.h"
#include "backoff.h"
#include "pg_conn.h"

namespace pginit {

/// kYielded: the lock was busy and the server has fewer free connection slots than the waiter must
/// leave spare: the caller closes its connection and tries again later.
enum class LockStatus { kHeld, kTimedOut, kStopped, kFailed, kYielded };

struct LockOutcome {
  LockStatus status = LockStatus::kFailed;
  std::optional<PgFailure> failure;  ///< for kFailed: why (the connection may be lost)
};

/// Tries pg_try_advisory_lock(key) outside any transaction until it is held, the `timeout`
/// (0 = none) passes, or a stop request: again whenever the holder's release notifies (LISTEN on
/// lock_channel(key)), and after a backoff in case the holder dies without releasing. Never
/// pg_advisory_lock: a session blocked there holds a snapshot, and the holder's CREATE INDEX
/// CONCURRENTLY would wait for it forever; an idle LISTEN holds none. While waiting, logs which
/// session holds the lock (pid, application_name). A waiter holds a server connection: while
/// fewer than `spare_connections` slots are free besides it (max_connections less the superuser's
/// reserve, less reserved_connections on 16+, less every client backend), it gives up waiting
/// (kYielded), so that a running application keeps its connections during a deploy.
Task<LockOutcome> acquire_migration_lock(PgConn& conn, std::int64_t key, Duration timeout, const BackoffPolicy& backoff,
                                         int spare_connections);

/// The channel on which waiters for the lock `key` hear of its release.
std::string lock_channel(std::int64_t key);

/// pg_advisory_unlock(key), and a notification on lock_channel(key) for the waiters, in a transaction
/// of pginit's own (bookkeeping_transaction). Closing the connection releases the lock as well, but
/// without the notification.
Task<void> release_migration_lock(PgConn& conn, std::int64_t key);

}  // namespace pginit
