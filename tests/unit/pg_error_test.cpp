#include <doctest.h>

#include <string>

#include "pg_error.h"

using namespace pginit;

namespace {
Verdict from_message(const char* message) {
  return classify_failure("", message);
}

// The verdict on `message`, checked to be fatal with `code`; returned for the caller's further checks.
Verdict fatal_verdict(const std::string& message, ExitCode code) {
  CAPTURE(message);
  Verdict verdict = from_message(message.c_str());
  CHECK_FALSE(verdict.transient);
  CHECK(verdict.exit_code == code);
  return verdict;
}
}  // namespace

TEST_CASE("pg_error: transient connection failures are retried") {
  struct Case {
    const char* message;
    Cost cost;
  };
  for (Case c :
       {Case{"connection to server at \"127.0.0.1\", port 5432 failed: Connection refused\n\tIs the server running on "
             "that host and accepting TCP/IP connections?",
             Cost::kRefused},
        Case{"connection to server at \"db\" (10.0.0.2), port 5432 failed: FATAL:  the database system is starting up",
             Cost::kCheap},
        Case{"connection to server at \"db\", port 5432 failed: FATAL:  the database system is shutting down",
             Cost::kCheap},
        Case{"connection to server at \"db\", port 5432 failed: FATAL:  sorry, too many clients already", Cost::kFull},
        Case{"connection to server at \"db\", port 5432 failed: FATAL:  remaining connection slots are reserved for "
             "non-replication superuser connections",
             Cost::kFull},
        Case{"could not translate host name \"db\" to address: Name or service not known", Cost::kCostly},
        Case{"could not translate host name \"db\" to address: Temporary failure in name resolution", Cost::kCostly},
        Case{"connection to server at \"10.1.1.1\", port 5432 failed: No route to host", Cost::kCostly},
        Case{"connection to server at \"10.1.1.1\", port 5432 failed: Network is unreachable", Cost::kCostly},
        Case{"timeout expired", Cost::kCostly},
        Case{"server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally",
             Cost::kCheap},
        Case{"connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" failed: No such file or directory",
             Cost::kRefused}}) {
    CAPTURE(c.message);
    Verdict verdict = from_message(c.message);
    CHECK(verdict.transient);
    CHECK(verdict.cost == c.cost);
  }
}

TEST_CASE("pg_error: authentication failures are fatal with exit 77") {
  for (const char* message :
       {"connection to server at \"db\", port 5432 failed: FATAL:  password authentication failed for user \"app\"",
        "connection to server at \"db\", port 5432 failed: FATAL:  role \"ghost\" does not exist",
        "connection to server at \"db\", port 5432 failed: FATAL:  no pg_hba.conf entry for host \"1.2.3.4\", user "
        "\"app\", database \"app\", no encryption",
        "connection to server at \"db\", port 5432 failed: fe_sendauth: no password supplied",
        "FATAL:  permission denied for database \"app\""}) {
    fatal_verdict(message, ExitCode::kAuth);
  }
}

TEST_CASE("pg_error: configuration failures are fatal with exit 78") {
  for (const char* message :
       {"connection to server at \"db\", port 5432 failed: FATAL:  database \"nope\" does not exist",
        "connection to server at \"db\", port 5432 failed: server does not support SSL, but SSL was required",
        "invalid connection option \"bogus\"", "invalid URI query parameter: \"x\"",
        "missing \"=\" after \"foo\" in connection info string", "invalid sslmode value: \"sometimes\""}) {
    fatal_verdict(message, ExitCode::kConfig);
  }
}

TEST_CASE("pg_error: no user name (no /etc/passwd entry, as in a scratch image) is a config error with a hint") {
  Verdict verdict = from_message("could not look up local user ID 0: user does not exist");
  CHECK_FALSE(verdict.transient);
  CHECK(verdict.exit_code == ExitCode::kConfig);
  CHECK(verdict.reason ==
        "could not look up local user ID 0: user does not exist; no user in the connection settings and none for this "
        "uid in /etc/passwd: set the user in the DSN, PGUSER or DB_USER");
}

TEST_CASE("pg_error: certificate problems are config errors, never retried") {
  for (const char* message :
       {"connection to server at \"127.0.0.1\", port 5432 failed: SSL error: certificate verify failed",
        "connection to server at \"127.0.0.1\", port 5432 failed: server certificate for \"db.test\" does not match "
        "host name \"127.0.0.1\"",
        "connection to server at \"127.0.0.1\", port 5432 failed: root certificate file \"/x/ca.pem\" does not exist\n"
        "Either provide the file or change sslmode to disable server certificate verification."}) {
    fatal_verdict(message, ExitCode::kConfig);
  }
}

TEST_CASE("pg_error: channel binding that cannot happen is a config error, never retried (libpq 15's texts)") {
  for (const char* message :
       {"connection to server at \"127.0.0.1\", port 5432 failed: channel binding required, but SSL not in use",
        "connection to server at \"db\", port 5432 failed: channel binding is required, but server did not offer an "
        "authentication method that supports channel binding",
        "connection to server at \"db\", port 5432 failed: channel binding required, but server authenticated client "
        "without channel binding",
        "connection to server at \"db\", port 5432 failed: channel binding required but not supported by server's "
        "authentication request"}) {
    const Verdict verdict = fatal_verdict(message, ExitCode::kConfig);
    CHECK(verdict.reason.find("needs TLS") != std::string::npos);
  }
}

TEST_CASE("pg_error: an option value libpq does not know is a config error naming it") {
  for (const char* option : {"channel_binding", "target_session_attrs", "gssencmode", "ssl_min_protocol_version"}) {
    const std::string message = std::string("invalid ") + option + " value: \"bogus\"\n";
    const Verdict verdict = fatal_verdict(message, ExitCode::kConfig);
    CHECK(verdict.reason == std::string("invalid ") + option + " value: \"bogus\"");
  }
}

TEST_CASE("pg_error: a SCRAM exchange that went wrong is an authentication failure, never retried") {
  for (const char* message :
       {"connection to server at \"db\", port 5432 failed: incorrect server signature",
        "connection to server at \"db\", port 5432 failed: malformed SCRAM message (invalid iteration count)",
        "connection to server at \"db\", port 5432 failed: invalid SCRAM response (nonce mismatch)",
        "connection to server at \"db\", port 5432 failed: server offered SCRAM-SHA-256-PLUS authentication over a "
        "non-SSL connection",
        "connection to server at \"db\", port 5432 failed: none of the server's SASL authentication mechanisms are "
        "supported",
        "connection to server at \"db\", port 5432 failed: GSSAPI authentication not supported",
        "connection to server at \"db\", port 5432 failed: authentication method 13 not supported"}) {
    fatal_verdict(message, ExitCode::kAuth);
  }
  CHECK(from_message("connection to server at \"db\", port 5432 failed: incorrect server signature").reason ==
        "incorrect server signature; the server did not prove that it knows the password: is it the server you meant?");
}

TEST_CASE("pg_error: SQLSTATE decides when the server sent one") {
  CHECK(classify_failure("28P01", "x").exit_code == ExitCode::kAuth);
  CHECK(classify_failure("28000", "x").exit_code == ExitCode::kAuth);
  CHECK(classify_failure("42501", "permission denied for table t").exit_code == ExitCode::kAuth);
  CHECK(classify_failure("3D000", "x").exit_code == ExitCode::kConfig);
  CHECK(classify_failure("57P03", "x").transient);
  CHECK(classify_failure("57P03", "x").cost == Cost::kCheap);
  CHECK(classify_failure("53300", "x").transient);
  CHECK(classify_failure("53300", "x").cost == Cost::kFull);
  CHECK(classify_failure("53200", "out of memory").cost == Cost::kCostly);
  CHECK(classify_failure("08006", "x").transient);
  CHECK(classify_failure("42P01", "relation \"t\" does not exist").transient);  // waiting for another service
  CHECK_FALSE(classify_failure("42601", "syntax error at or near \"SELEC\"").transient);
  CHECK(classify_failure("42601", "syntax error").exit_code == ExitCode::kConfig);
}

TEST_CASE("pg_error: unknown failures are transient") {
  CHECK(from_message("something nobody has seen before").transient);
}

TEST_CASE("pg_error: short reason strips libpq's framing") {
  CHECK(short_reason(
            "connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the server running?") ==
        "Connection refused");
  CHECK(short_reason("connection to server at \"h\", port 5432 failed: FATAL:  password authentication failed for user "
                     "\"app\"\n") == "password authentication failed for user \"app\"");
  CHECK(short_reason("timeout expired") == "timeout expired");
}

TEST_CASE("pg_error: which SQLSTATEs mean the session is gone") {
  for (const char* lost : {"08000", "08003", "08006", "08P01", "57P01", "57P02", "57P03"})
    CHECK(is_connection_loss(lost));
  for (const char* alive : {"", "57014", "55P03", "40P01", "42P01", "XX000"}) CHECK_FALSE(is_connection_loss(alive));
}

TEST_CASE("pg_error: PgBouncer's answers for a server it cannot reach are retried calmly, not at once") {
  for (const char* message :
       {"connection to server at \"127.0.0.1\", port 6432 failed: FATAL:  server login has been failing, try again "
        "later (server_login_retry)",
        "connection to server at \"127.0.0.1\", port 6432 failed: FATAL:  server login has been failing, cached error: "
        "connect failed (server_login_retry)",
        "connection to server at \"127.0.0.1\", port 6432 failed: FATAL:  client_login_timeout (server down)",
        "connection to server at \"127.0.0.1\", port 6432 failed: FATAL:  pgbouncer cannot connect to server"}) {
    CAPTURE(message);
    Verdict verdict = from_message(message);
    CHECK(verdict.transient);
    CHECK(verdict.cost == Cost::kPooler);
    CHECK(verdict.reason.starts_with("the pooler says: "));
  }
  // query_wait_timeout comes as a query error with PgBouncer's SQLSTATE 08P01.
  Verdict waited = classify_failure("08P01", "query_wait_timeout");
  CHECK(waited.transient);
  CHECK(waited.cost == Cost::kPooler);
  // Any other 08P01 is still an ordinary lost connection.
  CHECK(classify_failure("08P01", "invalid frontend message type 0").cost == Cost::kCheap);
}

TEST_CASE("pg_error: a database PgBouncer does not know is a config error (78) at once, a wrong password 77") {
  Verdict unknown =
      from_message("connection to server at \"127.0.0.1\", port 6432 failed: FATAL:  no such database: x");
  CHECK_FALSE(unknown.transient);
  CHECK(unknown.exit_code == ExitCode::kConfig);
  CHECK(unknown.reason == "no such database: x; add it to the pooler's [databases] section or fix the database name");
  Verdict password = from_message(
      "connection to server at \"127.0.0.1\", port 6432 failed: FATAL:  password authentication failed for user "
      "\"app\"");
  CHECK_FALSE(password.transient);
  CHECK(password.exit_code == ExitCode::kAuth);
}

TEST_CASE("pg_error: only the pool mode's refusal of a transaction block is statement pooling") {
  CHECK(pooler_refuses_transactions("FATAL:  transaction blocks not allowed in statement pooling mode\n"));
  CHECK(pooler_refuses_transactions("ERROR:  transaction blocks not allowed in statement pooling mode"));
  // A server SIGKILLed under PgBouncer while BEGIN was on its way: a lost connection, retried, never 78.
  CHECK_FALSE(pooler_refuses_transactions("server closed the connection unexpectedly\n\tThis probably means the "
                                          "server terminated abnormally\n\tbefore or while processing the request."));
  CHECK_FALSE(pooler_refuses_transactions("FATAL:  terminating connection due to administrator command"));
  CHECK_FALSE(pooler_refuses_transactions(""));
}

TEST_CASE("pg_error: the timeout that ended a statement or a session is named by its setting") {
  CHECK(timeout_setting("25P04", "terminating connection due to transaction timeout") == "transaction_timeout");
  CHECK(timeout_setting("25P03", "terminating connection due to idle-in-transaction timeout") ==
        "idle_in_transaction_session_timeout");
  CHECK(timeout_setting("57P05", "terminating connection due to idle-session timeout") == "idle_session_timeout");
  CHECK(timeout_setting("57014", "canceling statement due to statement timeout") == "statement_timeout");
  CHECK(timeout_setting("55P03", "canceling statement due to lock timeout") == "lock_timeout");
  // The same codes for other causes: a cancel, a NOWAIT, an administrator.
  CHECK_FALSE(timeout_setting("57014", "canceling statement due to user request"));
  CHECK_FALSE(timeout_setting("55P03", "could not obtain lock on row in relation \"t\""));
  CHECK_FALSE(timeout_setting("57P01", "terminating connection due to administrator command"));
  CHECK_FALSE(timeout_setting("", "server closed the connection unexpectedly"));
}
