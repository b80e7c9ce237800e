#pragma once
// The table of pginit's options: name, argument, environment variable, what each sets, and its help.
// Only config.cpp uses it; apart from it because the table is long and one concept of its own.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config.h"

namespace pginit {

/// What the options set before the connection parameters can be merged.
struct Draft {
  Config config;
  std::optional<std::string> dsn, migrate_dsn;
};

/// Sets an option's value into the draft; a usage (64) or config (78) failure naming the problem.
using Apply = std::optional<Failure> (*)(Draft&, std::string_view value);

struct OptionSpec {
  std::string_view name;      ///< without "--"
  std::string_view argument;  ///< "" for flags
  bool from_env;              ///< also read PGINIT_<NAME>
  Apply apply;
  std::string_view help;           ///< one sentence, plain text: --help, the man page and docs/reference.md
  std::string_view default_value;  ///< as shown in the reference; "" when there is none to show

  /// Whether a default is worth saying ("off" and "none" go without saying).
  bool shows_default() const { return !default_value.empty() && default_value != "off" && default_value != "none"; }
};

/// Every option, in --help's order.
std::span<const OptionSpec> option_table();

/// The option called `name` (without "--"), or nullptr.
const OptionSpec* find_option(std::string_view name);

/// The environment variable an option is also read from: "migrate-cmd" -> "PGINIT_MIGRATE_CMD".
std::string environment_variable(std::string_view option);

/// A usage error (exit 64) with `message`.
std::optional<Failure> usage_error(std::string message);

}  // namespace pginit
