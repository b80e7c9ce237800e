#include "migrations/run/session.h"

#include <fmt/format.h>

#include "dsn.h"
#include "log.h"
#include "migrations/history/history.h"
#include "migrations/run/bookkeeping.h"
#include "pg_error.h"

namespace pginit {

Task<SessionSetup> set_up_migration_session(PgConn& conn, const std::string& target, const std::string& session_name,
                                            bool ask_pool_mode) {
  SessionSetup setup;
  QueryResult server = co_await conn.query("SELECT pg_backend_pid(), current_setting('application_name')");
  if (!server.ok()) {
    setup.failure = std::move(server.failure);
    co_return setup;
  }
  if (server.rows.at(0).at(0) == std::to_string(conn.backend_pid())) {
    const std::string session = migration_session_sql(conn.server_version());
    if (QueryResult set = co_await conn.query(session); !set.ok()) setup.failure = std::move(set.failure);
    co_return setup;
  }
  conn.mark_pooled();
  // The pooler sets it on each server connection that serves this client (a tracked parameter).
  if (server.rows[0].at(1) == std::optional<std::string>(kFallbackApplicationName)) {
    const std::string name = fmt::format("SET application_name = {}", quote_literal(session_name));
    if (QueryResult set = co_await conn.query(name); !set.ok()) {
      setup.failure = std::move(set.failure);
      co_return setup;
    }
  }
  if (!ask_pool_mode) co_return setup;
  QueryResult begun = co_await conn.query("BEGIN");
  if (!begun.ok()) {
    if (!pooler_refuses_transactions(begun.failure->message)) {
      setup.failure = std::move(begun.failure);  // like any other lost or failed query here
      co_return setup;
    }
    setup.exit_code = log::failure(
        ExitCode::kConfig,
        fmt::format("the connection pooler at {} refused a transaction ({}): a migration file is one, so the "
                    "migrations need transaction or session pooling (PgBouncer's pool_mode), or a direct "
                    "connection with --migrate-dsn",
                    target, short_reason(begun.failure->message)));
    co_return setup;
  }
  if (QueryResult ended = co_await conn.query("ROLLBACK"); !ended.ok()) setup.failure = std::move(ended.failure);
  co_return setup;
}

}  // namespace pginit
