#include <doctest.h>

#include "migrations/run/pooler_safety.h"

using namespace pginit;

TEST_CASE("pooler safety: ordinary DDL and DML pass in both kinds of file") {
  for (const char* statement : {"CREATE TABLE t (id int)", "CREATE INDEX CONCURRENTLY i ON t (id)",
                                "INSERT INTO t VALUES (1)", "SELECT pg_advisory_xact_lock(1)",
                                "SET LOCAL lock_timeout = '1s'", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
                                "SET CONSTRAINTS ALL DEFERRED", "CREATE TEMP TABLE scratch (x int) ON COMMIT DROP",
                                "settings_table_stays", "SELECT 'SET search_path = x'", "PREPARE TRANSACTION 'x'"}) {
    CAPTURE(statement);
    CHECK_FALSE(pooler_unsafe_reason(statement, false));
    CHECK_FALSE(pooler_unsafe_reason(statement, true));
  }
}

TEST_CASE("pooler safety: a session SET or RESET is refused in a no-transaction file only") {
  for (const char* statement : {"SET search_path = ''", "set\n  statement_timeout = 0", "SET SESSION work_mem = '1GB'",
                                "RESET ALL", "reset search_path"}) {
    CAPTURE(statement);
    CHECK_FALSE(pooler_unsafe_reason(statement, false));
    auto reason = pooler_unsafe_reason(statement, true);
    REQUIRE(reason);
    CHECK(*reason ==
          "in a no-transaction file each statement may run on another server connection, so a session setting would "
          "not reach the next statement and would stay behind for other clients");
  }
}

TEST_CASE("pooler safety: session state that outlives a transaction is refused in every file") {
  struct Case {
    const char* statement;
    const char* reason;
  };
  for (Case c :
       {Case{"SELECT pg_advisory_lock(42)",
             "a session-level advisory lock would stay behind on a pooled server connection"},
        Case{"select PG_TRY_ADVISORY_LOCK(1, 2)",
             "a session-level advisory lock would stay behind on a pooled server connection"},
        Case{"LISTEN jobs", "LISTEN would stay behind on a pooled server connection"},
        Case{"PREPARE q AS SELECT 1", "a prepared statement would stay behind on a pooled server connection"},
        Case{"DECLARE c CURSOR WITH HOLD FOR SELECT 1",
             "a WITH HOLD cursor would stay behind on a pooled server connection"},
        Case{"CREATE TEMPORARY TABLE scratch (x int)",
             "a temporary object would stay behind on a pooled server connection (ON COMMIT DROP would not)"},
        Case{"create  temp view v as select 1",
             "a temporary object would stay behind on a pooled server connection (ON COMMIT DROP would not)"}}) {
    CAPTURE(c.statement);
    for (bool no_transaction : {false, true}) {
      auto reason = pooler_unsafe_reason(c.statement, no_transaction);
      REQUIRE(reason);
      CHECK(*reason == c.reason);
    }
  }
}
