#pragma once
// The migrate phase: SQL files, then the migrate command, once across replicas.
#include "async.h"
#include "config.h"
#include "stop.h"
#include "supervise.h"

namespace pginit {

/// Runs the migrate phase described by config.migrations: loads and checks the files, connects
/// (waiting for a primary), takes the advisory lock unless there is provably nothing to do,
/// applies pending files, runs the migrate command unless its fingerprint is unchanged, releases
/// the lock. --dry-run / --status print and change nothing. Returns 0 or the exit code to end
/// with (65, 69, 77, 78, 128+N); logs its own errors.
Task<int> run_migrations(const Config& config, Supervisor& supervisor, StopRequest& stop);

}  // namespace pginit
