#include <doctest.h>

#include "migrations/run/lease_sightings.h"

using namespace pginit;
using namespace std::chrono_literals;

namespace {
const LeaseSightings::Clock::time_point kStart{};
const LeaseSighting kHolderA{"a:1:x", 100};
}  // namespace

TEST_CASE("lease sightings: a lease is stale only once seen unchanged for a whole period of our own clock") {
  LeaseSightings sightings(10s);
  sightings.see(kHolderA, kStart);
  CHECK_FALSE(sightings.stale(kStart + 9999ms));
  CHECK(sightings.unchanged_for(kStart + 4s) == 4s);
  REQUIRE(sightings.stale(kStart + 10s));
  CHECK(*sightings.stale(kStart + 10s) == kHolderA);
  // Seen again unchanged: the first sighting's time counts, not the last.
  sightings.see(kHolderA, kStart + 9s);
  CHECK(sightings.stale(kStart + 10s));
}

TEST_CASE("lease sightings: a renewal, another holder or no lease starts the count again") {
  LeaseSightings sightings(10s);
  sightings.see(kHolderA, kStart);
  sightings.see(LeaseSighting{"a:1:x", 101}, kStart + 9s);  // renewed
  CHECK_FALSE(sightings.stale(kStart + 18s));
  CHECK(sightings.stale(kStart + 19s));
  sightings.see(LeaseSighting{"b:2:y", 101}, kStart + 19s);  // same token, another holder
  CHECK_FALSE(sightings.stale(kStart + 28s));
  sightings.see(std::nullopt, kStart + 28s);
  CHECK_FALSE(sightings.stale(kStart + 100s));
  CHECK(sightings.unchanged_for(kStart + 100s) == 0s);
}

TEST_CASE("lease sightings: a holder seen at work is forgotten, so its lease needs a whole period again") {
  LeaseSightings sightings(10s);
  sightings.see(kHolderA, kStart);
  sightings.forget();
  CHECK_FALSE(sightings.stale(kStart + 30s));
  sightings.see(kHolderA, kStart + 30s);
  CHECK_FALSE(sightings.stale(kStart + 39s));
  CHECK(sightings.stale(kStart + 40s));
}
