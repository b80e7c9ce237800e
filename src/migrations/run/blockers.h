#pragma once
// Which sessions hold the lock a migration statement waits for: looked up from a second
// connection while the statement waits, so that a lock timeout can name them.
#include <memory>
#include <string>
#include <vector>

#include "async.h"
#include "pg_conn.h"

namespace pginit {

/// A session from pg_blocking_pids() and pg_stat_activity.
struct Blocker {
  std::string pid;
  std::string state;  ///< e.g. "idle in transaction"
  std::string application_name;
  std::string query_start;      ///< ISO 8601
  std::string transaction_age;  ///< seconds its transaction has been open
  std::string query;            ///< its last query: for debug logs only, never at info
};

/// "pid 4242 (state=idle in transaction, application_name=psql, query_start=…, transaction open 12s)",
/// several joined by "; ", or "an unknown session" when none was seen.
std::string describe_blockers(const std::vector<Blocker>& blockers);

/// While it lives, looks at who blocks `conn`'s backend, over a second connection (`conn` itself is
/// busy), whenever the statements it runs have made no progress for `after`; once per stall. Work
/// that keeps moving costs nothing, so it can watch a pipeline of thousands of statements.
/// Destroying it stops the look if it has not begun.
class BlockerWatch {
 public:
  BlockerWatch(PgConn& conn, Duration after);
  ~BlockerWatch();
  BlockerWatch(const BlockerWatch&) = delete;
  BlockerWatch& operator=(const BlockerWatch&) = delete;

  /// A statement finished: the next look waits for a stall of `after` from now. What was seen
  /// stays: in a pipeline the server sends results in bursts, so the finish of an early statement
  /// may arrive together with the lock timeout of the blocked one.
  void progress();

  /// What the latest look found (empty before the first, or when nothing blocked the backend).
  const std::vector<Blocker>& seen() const;

  struct State;  // defined in blockers.cpp

 private:
  std::shared_ptr<State> state_;  // shared with the looking coroutine, which may outlive this
};

}  // namespace pginit
