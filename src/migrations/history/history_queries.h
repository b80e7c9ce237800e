#pragma once
// Reading and creating the history tables over a connection (the SQL text is history.h's and
// tool_history.h's).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "async.h"
#include "migrations/history/history.h"
#include "migrations/history/tool_history.h"
#include "pg_conn.h"

namespace pginit {

struct HistoryRead {
  std::vector<HistoryRow> rows;
  std::optional<PgFailure> failure;
};

/// The history table's rows; none (and no failure) while it does not exist yet.
Task<HistoryRead> read_history(PgConn& conn, const ToolHistory& history);

/// The stored fingerprint of `command`; nullopt when there is none, or when reading it failed
/// (`failure` then says why).
Task<std::optional<std::string>> stored_fingerprint(PgConn& conn, const HistoryTable& table, const std::string& command,
                                                    std::optional<PgFailure>& failure);

/// Creates pginit's own tables (`bookkeeping`: the lease, the fingerprints) and the format's history
/// table where missing, in a transaction of pginit's own, one replica at a time (a transaction-level
/// advisory lock on the two halves of `lock_key`, apart from the bigint migration lock itself):
/// CREATE ... IF NOT EXISTS at the same moment in two sessions can fail on the catalog. nullopt on
/// success.
Task<std::optional<PgFailure>> create_history_tables(PgConn& conn, const HistoryTable& bookkeeping,
                                                     const ToolHistory& history, std::int64_t lock_key);

}  // namespace pginit
