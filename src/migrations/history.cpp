#include "migrations/history.h"

#include <fmt/format.h>

#include "migrations/sha256.h"

namespace pginit {
namespace {

std::string quote_identifier(std::string_view identifier) {
  std::string quoted = "\"";
  for (char c : identifier) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

HistoryTable HistoryTable::from(std::string_view qualified_name) {
  std::size_t dot = qualified_name.find('.');
  if (dot == std::string_view::npos) return {"public", std::string(qualified_name)};
  return {std::string(qualified_name.substr(0, dot)), std::string(qualified_name.substr(dot + 1))};
}

std::string HistoryTable::quoted() const {
  return quote_identifier(schema) + "." + quote_identifier(name);
}

std::string HistoryTable::quoted_fingerprints() const {
  return quote_identifier(schema) + "." + quote_identifier(name + "_fingerprints");
}

std::string HistoryTable::quoted_lease() const {
  return quote_identifier(schema) + "." + quote_identifier(name + "_lease");
}

std::string HistoryTable::claim_lease_sql() const {
  return fmt::format(
      "INSERT INTO {0} (holder, renewed_at) VALUES ($1, now()) ON CONFLICT (singleton) DO UPDATE "
      "SET holder = EXCLUDED.holder, renewed_at = now() "
      "WHERE {0}.holder = EXCLUDED.holder OR {0}.renewed_at < now() - make_interval(secs => $2::float8) "
      "RETURNING holder",
      quoted_lease());
}

std::string HistoryTable::free_lease_sql() const {
  return fmt::format(
      "SELECT true WHERE NOT EXISTS (SELECT FROM {} WHERE holder <> $1 "
      "AND renewed_at >= now() - make_interval(secs => $2::float8))",
      quoted_lease());
}

std::string HistoryTable::lease_holder_sql() const {
  return fmt::format("SELECT holder, round(extract(epoch FROM now() - renewed_at)::numeric, 1) FROM {}",
                     quoted_lease());
}

std::string HistoryTable::renew_lease_sql() const {
  return fmt::format("UPDATE {} SET renewed_at = now() WHERE holder = $1", quoted_lease());
}

std::string HistoryTable::end_lease_sql() const {
  return fmt::format("DELETE FROM {} WHERE holder = $1", quoted_lease());
}

std::string HistoryTable::create_sql() const {
  return fmt::format(
      "CREATE SCHEMA IF NOT EXISTS {0};\n"
      "CREATE TABLE IF NOT EXISTS {1} (\n"
      "  version bigint PRIMARY KEY,\n"
      "  name text NOT NULL,\n"
      "  checksum text NOT NULL,\n"
      "  applied_at timestamptz NOT NULL DEFAULT now(),\n"
      "  duration_ms bigint NOT NULL\n"
      ");\n"
      "CREATE TABLE IF NOT EXISTS {2} (\n"
      "  command text PRIMARY KEY,\n"
      "  fingerprint text NOT NULL,\n"
      "  updated_at timestamptz NOT NULL DEFAULT now()\n"
      ");\n"
      "CREATE TABLE IF NOT EXISTS {3} (\n"
      "  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),\n"
      "  holder text NOT NULL,\n"
      "  renewed_at timestamptz NOT NULL\n"
      ")",
      quote_identifier(schema), quoted(), quoted_fingerprints(), quoted_lease());
}

std::string HistoryTable::select_sql() const {
  return fmt::format("SELECT version, name, checksum FROM {} ORDER BY version", quoted());
}

std::string HistoryTable::insert_sql(std::int64_t version, std::string_view name, std::string_view checksum,
                                     std::int64_t duration_ms) const {
  return fmt::format("INSERT INTO {} (version, name, checksum, duration_ms) VALUES ({}, {}, {}, {})", quoted(), version,
                     quote_literal(name), quote_literal(checksum), duration_ms);
}

std::string quote_literal(std::string_view text) {
  std::string quoted = "E'";
  for (char c : text) {
    if (c == '\\' || c == '\'') quoted += c;
    quoted += c;
  }
  return quoted + "'";
}

std::string HistoryTable::select_fingerprint_sql() const {
  return fmt::format("SELECT fingerprint FROM {} WHERE command = $1", quoted_fingerprints());
}

std::string HistoryTable::upsert_fingerprint_sql() const {
  return fmt::format(
      "INSERT INTO {} (command, fingerprint) VALUES ($1, $2) "
      "ON CONFLICT (command) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, updated_at = now()",
      quoted_fingerprints());
}

std::int64_t default_lock_key(std::string_view database, std::string_view qualified_table) {
  Sha256 hash;
  hash.update(std::string_view("pginit-migrations\0", 18));
  hash.update(database);
  hash.update(std::string_view("\0", 1));
  hash.update(qualified_table);
  auto digest = hash.finish();
  std::uint64_t key = 0;
  for (int i = 0; i < 8; ++i) key = (key << 8) | digest[static_cast<std::size_t>(i)];
  return static_cast<std::int64_t>(key);
}

std::pair<std::uint32_t, std::uint32_t> lock_key_parts(std::int64_t key) {
  const auto bits = static_cast<std::uint64_t>(key);
  return {static_cast<std::uint32_t>(bits >> 32), static_cast<std::uint32_t>(bits & 0xffffffffu)};
}

}  // namespace pginit
