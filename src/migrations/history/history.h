#pragma once
// pginit's history table, the fingerprint and lease tables beside every format's, and the advisory lock
// key (pure SQL text).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "migrations/run/lease_sightings.h"

namespace pginit {

struct HistoryTable {
  std::string schema;
  std::string name;

  /// From "schema.name" (already validated by config).
  static HistoryTable from(std::string_view qualified_name);
  /// "schema"."name", quoted for SQL.
  std::string quoted() const;
  /// "schema"."name_fingerprints": one row per migrate command.
  std::string quoted_fingerprints() const;

  /// pginit's own tables beside the history, whatever the format: the fingerprints and the lease.
  std::string create_bookkeeping_sql() const;
  /// pginit's history table (the pginit format's).
  std::string create_history_sql() const;
  std::string select_sql() const;  ///< version, name, checksum in version order
  /// The INSERT of a history row, values written as literals (E'' strings, so that a file that
  /// turned standard_conforming_strings off cannot change what they mean), so that it can share one
  /// round trip with the COMMIT after it.
  std::string insert_sql(std::int64_t version, std::string_view name, std::string_view checksum,
                         std::int64_t duration_ms) const;
  /// "schema"."name_lease": at most one row, the replica whose migrations run now.
  std::string quoted_lease() const;
  /// The lease's renewal as a number (microseconds since the epoch) for the row alias `row`: what a
  /// waiter compares to see whether it changed, whatever the session's DateStyle and TimeZone.
  static std::string lease_token_of(std::string_view row);
  /// Looks at the lease, and with `take` claims it, in one statement. Claimed when there is no lease,
  /// it is `holder`'s own, or it is still `stale`, the one the caller saw go stale. With `take`, only
  /// while every advisory lock of `exclusion_keys` is free (pg_try_advisory_xact_lock: a direct replica's
  /// session lock, or a tool's own lock, keeps pooled claimers out). One row: claimed (t/f; without `take`:
  /// whether it could be), and the lease as it was: holder, token, seconds since its renewal (NULL:
  /// none). A lease row locked by its holder's running file is waited for only as long as the
  /// session's lock_timeout allows. Values are written as literals (one simple-protocol string with
  /// the transaction around it).
  std::string lease_sql(bool take, std::string_view holder, const std::optional<LeaseSighting>& stale,
                        const std::vector<std::int64_t>& exclusion_keys) const;
  /// Renews `holder`'s lease: one row (the server process's pid) when `holder` holds it, none when it
  /// does not any more. Inside a file's transaction it also keeps the lease's row locked until the end.
  std::string renew_lease_sql(std::string_view holder) const;
  std::string end_lease_sql(std::string_view holder) const;
  std::string select_fingerprint_sql() const;  ///< $1 command -> fingerprint
  std::string upsert_fingerprint_sql(std::string_view command, std::string_view fingerprint) const;
};

/// The application_name of a pooled lease holder's sessions ("pginit/" and the random part of `holder`,
/// host:pid:random): a waiter sees in pg_stat_activity whether a statement of theirs still runs.
std::string lease_session_name(std::string_view holder);

/// `identifier` double-quoted for SQL.
std::string quote_identifier(std::string_view identifier);

/// `text` as an SQL string literal that means the same whatever standard_conforming_strings is:
/// E'…' with backslashes and quotes doubled.
std::string quote_literal(std::string_view text);

/// The advisory lock key when --lock-key is not given: the first 8 bytes (big-endian) of
/// sha256("pginit-migrations\0" + database + "\0" + schema.name) as a signed bigint.
std::int64_t default_lock_key(std::string_view database, std::string_view qualified_table);

/// `key` as pg_locks shows an advisory bigint lock: classid = high 32 bits, objid = low 32 bits.
std::pair<std::uint32_t, std::uint32_t> lock_key_parts(std::int64_t key);

}  // namespace pginit
