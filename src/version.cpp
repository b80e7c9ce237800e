#include "version.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include "architecture.h"

namespace pginit {

std::string format_libpq_version(int version_number) {
  // Since 10, PQlibVersion is major * 10000 + minor; before, major * 10000 + minor * 100 + patch.
  if (version_number >= 100000) return fmt::format("{}.{}", version_number / 10000, version_number % 10000);
  return fmt::format("{}.{}.{}", version_number / 10000, version_number / 100 % 100, version_number % 100);
}

std::string version_text() {
  return fmt::format("pginit {} ({}, libpq {}, {})", PGINIT_VERSION, compiled_architecture(),
                     format_libpq_version(PQlibVersion()), PGINIT_BUILD_NOTE);
}

}  // namespace pginit
