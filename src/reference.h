#pragma once
// The reference of options and exit codes, from the one table of each (options.cpp, exit_code.cpp),
// as a man page and as Markdown (pure): tools/reference writes docs/pginit.1 and docs/reference.md,
// and a test keeps both equal to what the tables say.
#include <string>
#include <string_view>

namespace pginit {

/// pginit(1) in man(7) roff.
std::string man_page(std::string_view version);

/// The exit-code table as Markdown (README quotes it between its markers).
std::string exit_codes_markdown();

/// docs/reference.md: options (with environment variable and default) and exit codes.
std::string markdown_reference();

}  // namespace pginit
