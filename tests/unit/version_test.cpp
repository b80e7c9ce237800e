#include <doctest.h>

#include "version.h"

using namespace pginit;

TEST_CASE("version: libpq's version number reads as its release") {
  CHECK(format_libpq_version(150018) == "15.18");
  CHECK(format_libpq_version(160000) == "16.0");
  CHECK(format_libpq_version(90624) == "9.6.24");
}

TEST_CASE("version: names pginit, libpq and how it was linked") {
  const std::string text = version_text();
  CHECK(text.starts_with("pginit " PGINIT_VERSION " (libpq "));
  CHECK(text.ends_with(")"));
  CHECK((text.find("static") != std::string::npos || text.find("dynamic") != std::string::npos));
}
