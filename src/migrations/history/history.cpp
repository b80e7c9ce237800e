#include "migrations/history/history.h"

#include <fmt/format.h>

#include "migrations/formats/sha256.h"

namespace pginit {

std::string quote_identifier(std::string_view identifier) {
  std::string quoted = "\"";
  for (char c : identifier) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

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

std::string HistoryTable::lease_token_of(std::string_view row) {
  return fmt::format("(extract(epoch FROM {}.renewed_at) * 1000000)::bigint", row);
}

std::string HistoryTable::lease_sql(bool take, std::string_view holder, const std::optional<LeaseSighting>& stale,
                                    const std::vector<std::int64_t>& exclusion_keys) const {
  const std::string me = quote_literal(holder);
  const std::string stale_holder = stale ? quote_literal(stale->holder) : "NULL";
  // A stale lease whose holder's statement still runs on the server (13 does not end the statement of a
  // client that died; a pooler does not tell it) is not taken over: its session carries the holder's name.
  const std::string stale_token =
      stale ? fmt::format(
                  "{} AND NOT EXISTS (SELECT FROM pg_catalog.pg_stat_activity AS a WHERE a.application_name = "
                  "{} AND a.state = 'active')",
                  stale->token, quote_literal(lease_session_name(stale->holder)))
            : "NULL";
  const std::string seen = fmt::format(
      "WITH seen AS (SELECT holder, {1} AS token, "
      "round(extract(epoch FROM clock_timestamp() - l.renewed_at)::numeric, 1) AS age FROM {0} AS l)",
      quoted_lease(), lease_token_of("l"));
  const std::string as_it_was = "seen.holder, seen.token, seen.age FROM (SELECT 1) AS one LEFT JOIN seen ON true";
  if (!take) {
    return fmt::format(
        "{} SELECT seen.holder IS NULL OR seen.holder = {} OR (seen.holder = {} AND seen.token = {}), {}", seen, me,
        stale_holder, stale_token, as_it_was);
  }
  std::string exclusion;
  for (std::int64_t key : exclusion_keys)
    exclusion +=
        fmt::format("{}pg_try_advisory_xact_lock(CAST({} AS bigint))", exclusion.empty() ? " WHERE " : " AND ", key);
  return fmt::format(
      "{0}, claim AS (INSERT INTO {1} AS l (holder, renewed_at) SELECT {2}, clock_timestamp(){3} "
      "ON CONFLICT (singleton) DO UPDATE SET holder = EXCLUDED.holder, renewed_at = EXCLUDED.renewed_at "
      "WHERE l.holder = EXCLUDED.holder OR (l.holder = {4} AND {5} = {6}) RETURNING true) "
      "SELECT EXISTS (SELECT FROM claim), {7}",
      seen, quoted_lease(), me, exclusion, stale_holder, lease_token_of("l"), stale_token, as_it_was);
}

std::string lease_session_name(std::string_view holder) {
  return fmt::format("pginit/{}", holder.substr(holder.rfind(':') + 1));
}

std::string HistoryTable::renew_lease_sql(std::string_view holder) const {
  return fmt::format("UPDATE {} SET renewed_at = clock_timestamp() WHERE holder = {} RETURNING pg_backend_pid()",
                     quoted_lease(), quote_literal(holder));
}

std::string HistoryTable::end_lease_sql(std::string_view holder) const {
  return fmt::format("DELETE FROM {} WHERE holder = {}", quoted_lease(), quote_literal(holder));
}

std::string HistoryTable::create_bookkeeping_sql() const {
  return fmt::format(
      "CREATE SCHEMA IF NOT EXISTS {0};\n"
      "CREATE TABLE IF NOT EXISTS {1} (\n"
      "  command text PRIMARY KEY,\n"
      "  fingerprint text NOT NULL,\n"
      "  updated_at timestamptz NOT NULL DEFAULT now()\n"
      ");\n"
      "CREATE TABLE IF NOT EXISTS {2} (\n"
      "  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),\n"
      "  holder text NOT NULL,\n"
      "  renewed_at timestamptz NOT NULL\n"
      ")",
      quote_identifier(schema), quoted_fingerprints(), quoted_lease());
}

std::string HistoryTable::create_history_sql() const {
  return fmt::format(
      "CREATE SCHEMA IF NOT EXISTS {0};\n"
      "CREATE TABLE IF NOT EXISTS {1} (\n"
      "  version bigint PRIMARY KEY,\n"
      "  name text NOT NULL,\n"
      "  checksum text NOT NULL,\n"
      "  applied_at timestamptz NOT NULL DEFAULT now(),\n"
      "  duration_ms bigint NOT NULL\n"
      ")",
      quote_identifier(schema), quoted());
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

std::string HistoryTable::upsert_fingerprint_sql(std::string_view command, std::string_view fingerprint) const {
  return fmt::format(
      "INSERT INTO {} (command, fingerprint) VALUES ({}, {}) "
      "ON CONFLICT (command) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, updated_at = now()",
      quoted_fingerprints(), quote_literal(command), quote_literal(fingerprint));
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
