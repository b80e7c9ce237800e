#include "migrations/run/lease_sightings.h"

namespace pginit {

void LeaseSightings::see(const std::optional<LeaseSighting>& lease, Clock::time_point now) {
  if (lease == first_) return;
  first_ = lease;
  first_at_ = now;
}

std::optional<LeaseSighting> LeaseSightings::stale(Clock::time_point now) const {
  if (!first_ || now - first_at_ < period_) return std::nullopt;
  return first_;
}

Duration LeaseSightings::unchanged_for(Clock::time_point now) const {
  if (!first_) return Duration{0};
  return std::chrono::duration_cast<Duration>(now - first_at_);
}

}  // namespace pginit
