#include <doctest.h>

#include "migrations/history/history.h"
#include "migrations/run/bookkeeping.h"

using namespace pginit;
using namespace std::chrono_literals;

namespace {
bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("bookkeeping: only what the server knows is sent (13 has no client_connection_check_interval)") {
  const std::string on13 = migration_session_sql(130016);
  CHECK_FALSE(contains(on13, "client_connection_check_interval"));
  CHECK_FALSE(contains(on13, "idle_session_timeout"));
  CHECK(contains(on13, "SET idle_in_transaction_session_timeout = 0"));
  CHECK(contains(on13, "SET tcp_keepalives_idle = 5"));
  const std::string on15 = migration_session_sql(150018);
  CHECK(contains(on15, "SET client_connection_check_interval = 1000"));
  CHECK(contains(on15, "SET idle_session_timeout = 0"));
  CHECK_FALSE(contains(bookkeeping_transaction("SELECT 1", 160004, 0ms), "transaction_timeout"));
  CHECK(contains(bookkeeping_transaction("SELECT 1", 170012, 0ms), "SET LOCAL transaction_timeout = 0"));
  CHECK_FALSE(contains(pooled_file_opening_sql(130016, "UPDATE x"), "client_connection_check_interval"));
  CHECK(contains(pooled_file_opening_sql(180000, "UPDATE x"), "SET LOCAL client_connection_check_interval = 1000"));
}

TEST_CASE("bookkeeping: pginit's own transactions ignore the defaults a DBA may set") {
  const std::string sql = bookkeeping_transaction("SELECT 1", 150018, 200ms);
  CHECK(sql.starts_with("BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; "));
  CHECK(contains(sql, "SET LOCAL statement_timeout = 0; "));
  CHECK(contains(sql, "SET LOCAL idle_in_transaction_session_timeout = 0; "));
  CHECK(contains(sql, "SET LOCAL lock_timeout = 200; "));
  CHECK(sql.ends_with("SELECT 1; COMMIT"));
}

TEST_CASE("bookkeeping: a pooled file's transaction opens with the lease's fence and an idle limit") {
  const std::string sql = pooled_file_opening_sql(150018, "UPDATE l SET x = 1 RETURNING pg_backend_pid()");
  CHECK(sql.starts_with("BEGIN; "));
  CHECK(contains(sql, "SET LOCAL idle_in_transaction_session_timeout = 10000; "));
  CHECK(sql.ends_with("UPDATE l SET x = 1 RETURNING pg_backend_pid()"));
}

TEST_CASE("lease SQL: a claim names what it saw go stale, and a look without take takes nothing") {
  const HistoryTable table = HistoryTable::from("app.history");
  const std::string look = table.lease_sql(false, "me:1:a", std::nullopt, {});
  CHECK_FALSE(contains(look, "INSERT"));
  CHECK(contains(look, "seen.holder = E'me:1:a'"));
  CHECK(contains(look, "seen.holder = NULL AND seen.token = NULL"));
  const std::string claim = table.lease_sql(true, "me:1:a", LeaseSighting{"it's:2:b", 1234}, {42, 7});
  CHECK(contains(claim, "INSERT INTO \"app\".\"history_lease\" AS l"));
  CHECK(contains(claim,
                 "WHERE pg_try_advisory_xact_lock(CAST(42 AS bigint)) AND pg_try_advisory_xact_lock(CAST(7 AS "
                 "bigint))"));
  CHECK(contains(claim, "l.holder = E'it''s:2:b' AND (extract(epoch FROM l.renewed_at) * 1000000)::bigint = 1234"));
  // Not while a statement of the stale holder's still runs (a pooled session carries its name).
  CHECK(contains(claim,
                 "AND NOT EXISTS (SELECT FROM pg_catalog.pg_stat_activity AS a WHERE a.application_name = "
                 "E'pginit/b' AND a.state = 'active')"));
  CHECK(lease_session_name("host.example:4242:0a1b2c3d") == "pginit/0a1b2c3d");
  CHECK(table.renew_lease_sql("me:1:a") ==
        "UPDATE \"app\".\"history_lease\" SET renewed_at = clock_timestamp() WHERE holder = E'me:1:a' "
        "RETURNING pg_backend_pid()");
}
