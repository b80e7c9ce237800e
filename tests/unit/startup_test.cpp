#include <doctest.h>

#include "startup.h"

using namespace pginit;

TEST_CASE("startup: one line with the time of every phase") {
  CHECK(describe_startup({.wait = Duration{1100}, .migrations = Duration{300}, .applied = 3}, Duration{1400}) ==
        "started the app after 1.4s (wait 1.1s, migrations 300ms, 3 applied)");
  CHECK(describe_startup({.wait = Duration{9}}, Duration{12}) ==
        "started the app after 12ms (wait 9ms, no migrations)");
  CHECK(describe_startup({}, Duration{2}) == "started the app after 2ms (no wait, no migrations)");
}
