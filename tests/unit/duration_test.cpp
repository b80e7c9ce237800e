#include <doctest.h>

#include "duration.h"

using namespace pginit;
using namespace std::chrono_literals;

TEST_CASE("duration: units, compounds and bare seconds") {
  CHECK(*parse_duration("250ms") == 250ms);
  CHECK(*parse_duration("5s") == 5000ms);
  CHECK(*parse_duration("1m30s") == 90'000ms);
  CHECK(*parse_duration("2h") == 7'200'000ms);
  CHECK(*parse_duration("10") == 10'000ms);
  CHECK(*parse_duration("0") == 0ms);
  CHECK(*parse_duration("0.5") == 500ms);
  CHECK(*parse_duration("1.5s") == 1500ms);
  CHECK(*parse_duration("1h2m3s4ms") == 3'723'004ms);
}

TEST_CASE("duration: bad input is a usage error naming the text") {
  for (const char* bad : {"", "s", "5x", "1m30", "-1s", "1.s", "ms", "5 s", "1e3"}) {
    CAPTURE(bad);
    auto parsed = parse_duration(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.failure().code == ExitCode::kUsage);
    CHECK(parsed.error().find(std::string("\"") + bad + "\"") != std::string::npos);
  }
  CHECK_FALSE(parse_duration("99999999999999999999h").ok());
}

TEST_CASE("duration: formatting for logs") {
  CHECK(format_duration(9ms) == "9ms");
  CHECK(format_duration(6100ms) == "6.1s");
  CHECK(format_duration(125'000ms) == "2m5s");
  CHECK(format_duration(7'260'000ms) == "2h1m");
}
