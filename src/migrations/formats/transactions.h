#pragma once
// Whether SQL text can run inside a transaction of pginit's (pure).
#include <string_view>

namespace pginit {

/// True for a statement PostgreSQL refuses inside a transaction block (Flyway's list for PostgreSQL:
/// CREATE/DROP DATABASE, TABLESPACE or SUBSCRIPTION, ALTER SYSTEM, CREATE [UNIQUE] INDEX CONCURRENTLY,
/// DROP INDEX CONCURRENTLY, REINDEX SCHEMA/DATABASE/SYSTEM, VACUUM, DISCARD ALL).
bool runs_outside_a_transaction(std::string_view statement);

/// True when `sql` (cut where psql cuts) has no statement that runs outside a transaction and no
/// transaction control of its own (BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ... PREPARED): then
/// a tool's one-query file can run in a transaction with its history row, and no failure of it leaves
/// a state to repair by hand (golang-migrate's dirty version, Prisma's unfinished migration).
bool can_run_in_a_transaction(std::string_view sql);

}  // namespace pginit
