#pragma once
// What a migration file may not do through a transaction-pooling connection pooler (pure).
#include <optional>
#include <string>
#include <string_view>

namespace pginit {

/// Why `statement` cannot work through a transaction-pooling pooler, or nullopt. There, each
/// transaction may run on another server connection, and what a session keeps (settings,
/// listeners, prepared statements, temporary tables, session advisory locks) stays behind on a
/// server connection that other clients get next. In a transactional file a session SET or RESET
/// is fine (pginit resets the session before COMMIT); in a no-transaction file every statement is
/// a transaction of its own, so it would not even reach the next statement. `statement` starts at
/// its first token, as sql_split gives it.
std::optional<std::string> pooler_unsafe_reason(std::string_view statement, bool no_transaction);

}  // namespace pginit
