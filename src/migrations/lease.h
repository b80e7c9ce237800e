#pragma once
// The migration lease: a row in the history table's _lease table that says which replica's
// migrations run now, renewed while they run. The advisory lock alone ends with its session: when
// a holder's session dies while its migrate command or a no-transaction statement runs on (a
// pg_terminate_backend, a failover), another replica would take the lock and start the same work
// beside it. The lease outlives the session, so the next lock holder waits for it.
#include <optional>
#include <string>

#include <asio/steady_timer.hpp>

#include "async.h"
#include "dsn.h"
#include "migrations/history.h"
#include "pg_conn.h"

namespace pginit {

struct LeaseClaim {
  bool claimed = false;
  std::string holder;       ///< when not claimed: who holds it
  std::string renewed_ago;  ///< when not claimed: seconds since its holder renewed it
  std::optional<PgFailure> failure;
};

class MigrationLease {
 public:
  /// A lease not renewed for this long is free again: pginit died (SIGKILL) or cannot reach the
  /// server. The next deploy waits that long at most.
  static constexpr Duration kPeriod{10'000};

  MigrationLease(asio::any_io_executor executor, std::string holder);

  /// Over `conn` (holding the advisory lock): is the lease free, stale, or already ours? With
  /// `take`, claims it then, and renews it every kPeriod / 3 over a connection of its own (`params`),
  /// reconnecting as often as needed, until end(). Without, only looks (claimed = free): a run of
  /// transactional files leaves nothing running when its session dies, and needs no lease, but must
  /// still not start beside another replica's work.
  Task<LeaseClaim> claim(PgConn& conn, const HistoryTable& table, const ConnParams& params, Duration connect_timeout,
                         bool take);

  /// Stops renewing and deletes the row, over `migration_conn` while it is usable, else over the
  /// lease's own connection (best effort: a row left behind goes stale after kPeriod). Does nothing
  /// when no lease is held. Every way out of the migrate phase goes through it, so that the renewal
  /// never outlives this object.
  Task<void> end(PgConn& migration_conn);

  const std::string& holder() const { return holder_; }

 private:
  Task<void> renew();
  /// Connects the renewal connection when it is not; false when that failed.
  Task<bool> connected();

  std::string holder_;
  PgConn conn_;  ///< the renewal's own connection: it survives a lost migration session
  asio::steady_timer next_renewal_;
  asio::steady_timer renewal_done_;
  std::optional<HistoryTable> table_;
  ConnParams params_;
  Duration connect_timeout_{5000};
  bool renewing_ = false;
  bool stopping_ = false;
};

/// A holder name for this process: "host:pid:random", for log lines and the lease row.
std::string lease_holder_name();

}  // namespace pginit
