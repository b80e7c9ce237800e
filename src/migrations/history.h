#pragma once
// The history table, the fingerprint table beside it, and the advisory lock key (pure SQL text).
#include <cstdint>
#include <string>
#include <string_view>

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

  std::string create_sql() const;
  std::string select_sql() const;  ///< version, name, checksum in version order
  /// The INSERT of a history row, values written as literals (E'' strings, so that a file that
  /// turned standard_conforming_strings off cannot change what they mean), so that it can share one
  /// round trip with the COMMIT after it.
  std::string insert_sql(std::int64_t version, std::string_view name, std::string_view checksum,
                         std::int64_t duration_ms) const;
  /// "schema"."name_lease": at most one row, the replica whose migrations run now.
  std::string quoted_lease() const;
  /// Takes the lease for $1 (holder) when it is free, its own, or not renewed for $2 seconds;
  /// returns one row (the holder) when taken, none when another replica's lease is still fresh.
  std::string claim_lease_sql() const;
  /// One row when the lease is free for $1 (no row, its own, or not renewed for $2 seconds); none
  /// when another replica's lease is still fresh. Takes nothing.
  std::string free_lease_sql() const;
  std::string lease_holder_sql() const;        ///< holder, seconds since its renewal (one row or none)
  std::string renew_lease_sql() const;         ///< $1 holder
  std::string end_lease_sql() const;           ///< $1 holder
  std::string select_fingerprint_sql() const;  ///< $1 command -> fingerprint
  std::string upsert_fingerprint_sql() const;  ///< $1 command, $2 fingerprint
};

/// `text` as an SQL string literal that means the same whatever standard_conforming_strings is:
/// E'…' with backslashes and quotes doubled.
std::string quote_literal(std::string_view text);

/// The advisory lock key when --lock-key is not given: the first 8 bytes (big-endian) of
/// sha256("pginit-migrations\0" + database + "\0" + schema.name) as a signed bigint.
std::int64_t default_lock_key(std::string_view database, std::string_view qualified_table);

/// `key` as pg_locks shows an advisory bigint lock: classid = high 32 bits, objid = low 32 bits.
std::pair<std::uint32_t, std::uint32_t> lock_key_parts(std::int64_t key);

}  // namespace pginit
