#pragma once
// What `pginit --version` prints: our version, the libpq linked in, and how it was built.
#include <string>

namespace pginit {

/// "15.18" for PQlibVersion() 150018; "9.6.24" for the old three-part 90624.
std::string format_libpq_version(int version_number);

/// "pginit 0.2.0 (arm64, libpq 15.18, OpenSSL 3.0.20, static)" or "pginit 0.2.0 (amd64, libpq 15.18, dynamic)".
std::string version_text();

}  // namespace pginit
