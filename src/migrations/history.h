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
  std::string select_sql() const;              ///< version, name, checksum in version order
  std::string insert_sql() const;              ///< $1 version, $2 name, $3 checksum, $4 duration_ms
  std::string select_fingerprint_sql() const;  ///< $1 command -> fingerprint
  std::string upsert_fingerprint_sql() const;  ///< $1 command, $2 fingerprint
};

/// The advisory lock key when --lock-key is not given: the first 8 bytes (big-endian) of
/// sha256("pginit-migrations\0" + database + "\0" + schema.name) as a signed bigint.
std::int64_t default_lock_key(std::string_view database, std::string_view qualified_table);

/// `key` as pg_locks shows an advisory bigint lock: classid = high 32 bits, objid = low 32 bits.
std::pair<std::uint32_t, std::uint32_t> lock_key_parts(std::int64_t key);

}  // namespace pginit
