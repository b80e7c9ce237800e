#pragma once
// The migration lease: a row in the history table's _lease table that says which replica's
// migrations run now, renewed while they run. Directly, the advisory lock decides who migrates and
// the lease covers what outlives a session (a migrate command, a no-transaction statement run on
// after pg_terminate_backend or a failover): the next lock holder waits for it. Through a pooler the
// lease is the lock itself: it needs no server connection held while it is waited for, and a
// transactional file takes the lease's row in its own transaction (its fence), so the file commits
// only while its replica still holds the lease, and nobody takes the lease over while it runs.
#include <cstdint>
#include <optional>
#include <string>

#include <asio/steady_timer.hpp>

#include "async.h"
#include "dsn.h"
#include "migrations/history/history.h"
#include "migrations/run/lease_sightings.h"
#include "pg_conn.h"

namespace pginit {

struct LeaseClaim {
  bool claimed = false;
  std::string holder;       ///< when not claimed: who holds it ("" when no lease row: the advisory lock is held)
  std::string renewed_ago;  ///< when not claimed: seconds since its holder renewed it, by the server's clock
  std::optional<PgFailure> failure;
};

class MigrationLease {
 public:
  /// A lease seen unchanged for this long is another replica's no more (LeaseSightings): pginit died
  /// (SIGKILL) or cannot reach the server. The next deploy waits about this long.
  static constexpr Duration kPeriod{10'000};

  MigrationLease(asio::any_io_executor executor, std::string holder);

  /// Over `conn`, in a transaction of its own (bookkeeping_transaction): looks at the lease and,
  /// with `take`, claims it (HistoryTable::lease_sql; only while the advisory locks `exclusion_keys`
  /// are free). Without `take` it only looks (claimed = it could be): a direct run of
  /// transactional files leaves nothing running when its session dies, but must not start beside
  /// another replica's work. A lease row that its holder's file has locked is busy, not a failure.
  Task<LeaseClaim> claim(PgConn& conn, const HistoryTable& table, bool take,
                         const std::vector<std::int64_t>& exclusion_keys = {});

  /// Renews the claimed lease every kPeriod / 3 over a connection of its own (`params`) until end():
  /// kept open, or with `reconnect_each_time` (through a pooler, where an open connection in session
  /// pooling keeps a server connection) opened for each renewal. It survives a lost migration session.
  void start_renewing(const ConnParams& params, Duration connect_timeout, bool reconnect_each_time);

  /// Stops renewing and deletes the row, over `migration_conn` while it is usable, else over the
  /// renewal's own connection (best effort: a row left behind goes stale after kPeriod). Does nothing
  /// when no lease is held. Every way out of the migrate phase goes through it, so that the renewal
  /// never outlives this object.
  Task<void> end(PgConn& migration_conn);

  /// The statement that renews the held lease and returns a row while it is still ours (a pooled
  /// file's fence, a check before a no-transaction statement).
  std::string renew_sql() const;

  const std::string& holder() const { return holder_; }

 private:
  Task<void> renew();
  /// Connects the renewal connection when it is not; false when that failed.
  Task<bool> connected();

  std::string holder_;
  LeaseSightings sightings_{kPeriod};
  PgConn conn_;  ///< the renewal's own connection
  asio::steady_timer next_renewal_;
  asio::steady_timer renewal_done_;
  std::optional<HistoryTable> table_;  ///< set while the lease is held
  ConnParams params_;
  Duration connect_timeout_{5000};
  bool reconnect_each_time_ = false;
  bool renewing_ = false;
  bool stopping_ = false;
};

/// A holder name for this process: "host:pid:random", for log lines and the lease row.
std::string lease_holder_name();

}  // namespace pginit
