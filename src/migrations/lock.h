#pragma once
// The session-level advisory lock that makes migrations run once across replicas.
#include <cstdint>
#include <optional>
#include <string>

#include "async.h"
#include "backoff.h"
#include "pg_conn.h"

namespace pginit {

enum class LockStatus { kHeld, kTimedOut, kStopped, kFailed };

struct LockOutcome {
  LockStatus status = LockStatus::kFailed;
  std::optional<PgFailure> failure;  ///< for kFailed: why (the connection may be lost)
};

/// Tries pg_try_advisory_lock(key) outside any transaction until it is held, the `timeout`
/// (0 = none) passes, or a stop request: again whenever the holder's release notifies (LISTEN on
/// lock_channel(key)), and after a backoff in case the holder dies without releasing. Never
/// pg_advisory_lock: a session blocked there holds a snapshot, and the holder's CREATE INDEX
/// CONCURRENTLY would wait for it forever; an idle LISTEN holds none. While waiting, logs which
/// session holds the lock (pid, application_name).
Task<LockOutcome> acquire_migration_lock(PgConn& conn, std::int64_t key, Duration timeout,
                                         const BackoffPolicy& backoff);

/// Who holds the migration lock `key`, for a log line: "pid N (application_name=…, client=…)",
/// or "another session" when that cannot be seen. Asks over `conn`.
Task<std::string> describe_lock_holder(PgConn& conn, std::int64_t key);

/// The channel on which waiters for the lock `key` hear of its release.
std::string lock_channel(std::int64_t key);

/// pg_advisory_unlock(key), and a notification on lock_channel(key) for the waiters. Closing the
/// connection releases the lock as well, but without the notification.
Task<void> release_migration_lock(PgConn& conn, std::int64_t key);

}  // namespace pginit
