#include <doctest.h>

#include "architecture.h"
#include "version.h"

using namespace pginit;

TEST_CASE("version: libpq's version number reads as its release") {
  CHECK(format_libpq_version(150018) == "15.18");
  CHECK(format_libpq_version(160000) == "16.0");
  CHECK(format_libpq_version(90624) == "9.6.24");
}

TEST_CASE("version: names pginit, the architecture, libpq and how it was linked") {
  const std::string text = version_text();
  CHECK(
      text.starts_with(std::string("pginit " PGINIT_VERSION " (") + std::string(compiled_architecture()) + ", libpq "));
  CHECK(compiled_architecture() != "unknown");
  CHECK(text.ends_with(")"));
  CHECK((text.find("static") != std::string::npos || text.find("dynamic") != std::string::npos));
}
