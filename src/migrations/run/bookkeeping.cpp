#include "migrations/run/bookkeeping.h"

#include <fmt/format.h>

namespace pginit {

std::string migration_session_sql(int server_version) {
  std::string sql;
  if (server_version >= kServer14) sql += "SET client_connection_check_interval = 1000; SET idle_session_timeout = 0; ";
  return sql +
         "SET idle_in_transaction_session_timeout = 0; SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; "
         "SET tcp_keepalives_count = 3";
}

std::string bookkeeping_transaction(std::string_view statements, int server_version, Duration lock_timeout) {
  std::string sql = fmt::format(
      "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; SET LOCAL statement_timeout = 0; "
      "SET LOCAL idle_in_transaction_session_timeout = 0; SET LOCAL lock_timeout = {}; ",
      lock_timeout.count());
  if (server_version >= kServer17) sql += "SET LOCAL transaction_timeout = 0; ";
  return sql + fmt::format("{}; COMMIT", statements);
}

std::string pooled_file_opening_sql(int server_version, std::string_view fence) {
  std::string sql = "BEGIN; ";
  if (server_version >= kServer14) sql += "SET LOCAL client_connection_check_interval = 1000; ";
  return sql + fmt::format("SET LOCAL idle_in_transaction_session_timeout = {}; {}", kPooledIdleLimit.count(), fence);
}

}  // namespace pginit
