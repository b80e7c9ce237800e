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

/// Polls pg_try_advisory_lock(key) outside any transaction, with backoff, until it is held, the
/// `timeout` (0 = none) passes, or a stop request. Never pg_advisory_lock: a session blocked
/// there holds a snapshot, and the holder's CREATE INDEX CONCURRENTLY would wait for it forever.
/// While waiting, logs which session holds the lock (pid, application_name).
Task<LockOutcome> acquire_migration_lock(PgConn& conn, std::int64_t key, Duration timeout,
                                         const BackoffPolicy& backoff);

/// pg_advisory_unlock(key). Closing the connection releases it as well.
Task<void> release_migration_lock(PgConn& conn, std::int64_t key);

}  // namespace pginit
