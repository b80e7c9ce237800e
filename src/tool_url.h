#pragma once
// Other migration tools' DATABASE_URL parameters, which libpq refuses ("invalid URI query parameter"):
// golang-migrate's `x-…` options, and the `search_path` that golang-migrate and dbmate pass to the
// server as a startup parameter. Taken out of the URI, so that the URL a tool was given works for
// pginit as it is (pure).
#include <map>
#include <string>
#include <string_view>

namespace pginit {

struct ToolUrl {
  /// For libpq: the tools' parameters taken out; `search_path` and `x-statement-timeout` become
  /// `-c` settings in `options` (appended to one the URI has).
  std::string dsn;
  /// The `x-…` parameters taken out, URL-decoded: x-migrations-table, x-migrations-table-quoted, …
  std::map<std::string, std::string> parameters;
};

/// For a postgres:// or postgresql:// URI, takes the tools' parameters out of its query; any other DSN
/// (key=value) is returned unchanged.
ToolUrl take_tool_url_parameters(std::string_view dsn);

}  // namespace pginit
