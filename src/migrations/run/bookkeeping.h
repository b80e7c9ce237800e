#pragma once
// The SQL around pginit's own work on the server (pure): what it sets for its sessions and
// transactions, so that a role's or database's settings (a DBA's statement_timeout,
// default_transaction_read_only, idle_session_timeout, ...) never break the lock, the lease or the
// history, and only what the server at hand knows is sent.
#include <string>
#include <string_view>

#include "duration.h"

namespace pginit {

/// PQserverVersion's numbers for the settings that are not in every supported server.
inline constexpr int kServer14 = 140000;  ///< client_connection_check_interval, idle_session_timeout
inline constexpr int kServer16 = 160000;  ///< reserved_connections
inline constexpr int kServer17 = 170000;  ///< transaction_timeout

/// The session settings of a direct migration connection (`server_version` as PQserverVersion):
/// should pginit die mid-statement, the server notices within a second and ends it (14+: before
/// that, the statement runs on until it ends or the keepalives end the session); should the link die
/// while the session is idle, the server's keepalive probes end the session, and the lock, within
/// about 11 s; an idle waiter is never ended by idle_session_timeout, nor a file's transaction,
/// idle between pginit's round trips, by idle_in_transaction_session_timeout. What the migration
/// files run under (their statement, lock and transaction timeouts, isolation) stays the user's.
std::string migration_session_sql(int server_version);

/// `statements` (one string, several statements, no parameters) in a transaction of pginit's own:
/// READ COMMITTED and READ WRITE whatever the defaults, no statement, idle or transaction timeout,
/// and `lock_timeout` (0: none) for a lock held by someone else.
std::string bookkeeping_transaction(std::string_view statements, int server_version, Duration lock_timeout);

/// The opening of a transactional file's transaction through a pooler, sent on its own so that its
/// answer names the server process: BEGIN, the statement check of a dead client (14+), an idle
/// limit that ends the transaction (and the file's locks) when pginit goes silent between its round
/// trips, then `fence`: a statement that returns the server process's pid while pginit still holds the
/// lease, and no row when it does not (HistoryTable::renew_lease_sql).
std::string pooled_file_opening_sql(int server_version, std::string_view fence);

/// How long a pooled file's transaction may sit idle between pginit's round trips before the server
/// ends it: pginit itself never waits between them, so only a silent pginit reaches it.
inline constexpr Duration kPooledIdleLimit{10'000};

}  // namespace pginit
