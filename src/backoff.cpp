#include "backoff.h"

#include <algorithm>
#include <cmath>

namespace pginit {

namespace {

// A point of [low, high] (high below low counts as low).
Duration within(Duration low, Duration high, double random_unit) {
  const double unit = std::clamp(random_unit, 0.0, 1.0);
  const auto span = static_cast<double>((high - low).count());
  return low + Duration{static_cast<Duration::rep>(unit * std::max(span, 0.0))};
}

}  // namespace

Duration next_delay(int attempt, Cost cost, const BackoffPolicy& policy, double random_unit) {
  if (cost == Cost::kPooler) return within(policy.pooler_min, policy.pooler_max, random_unit);
  if (cost == Cost::kLogin) return within(policy.login_min, policy.login_max, random_unit);
  if (cost == Cost::kFull) {
    const double unit = std::clamp(random_unit, 0.0, 1.0);
    const double window =
        std::min(static_cast<double>(policy.full_window.count()) * std::ldexp(1.0, std::clamp(attempt - 1, 0, 20)),
                 static_cast<double>(std::max(policy.max, policy.full_max).count()));
    return Duration{static_cast<Duration::rep>(std::max(unit * window, static_cast<double>(policy.min.count())))};
  }
  Duration cap = policy.max;
  if (cost == Cost::kRefused)
    cap = std::min(cap, attempt <= policy.refused_quick_steps ? policy.refused_max : policy.cheap_max);
  if (cost == Cost::kCheap) cap = std::min(cap, policy.cheap_max);
  if (cost == Cost::kPolling) cap = std::min(cap, policy.polling_max);
  cap = std::max(cap, std::min(policy.min, policy.max));

  // 2^62 ms overflows nothing and is far beyond any cap; stop doubling there.
  const int exponent = std::clamp(attempt - 1, 0, 40);
  const double base = static_cast<double>(policy.min.count()) * std::ldexp(1.0, exponent);
  const double ceiling = std::min(base, static_cast<double>(cap.count()));
  const double unit = std::clamp(random_unit, 0.0, 1.0);
  const double delay = ceiling / 2.0 + unit * ceiling / 2.0;
  const double floor = static_cast<double>(std::min(policy.min, policy.max).count());
  return Duration{static_cast<Duration::rep>(std::max(delay, std::min(floor, ceiling)))};
}

int BackoffSteps::after(Cost cost, std::string_view reason) {
  if (reason == reason_) {
    ++same_reason_;
    return ++step_;
  }
  const bool moved_on = (cost == Cost::kRefused || cost == Cost::kCheap) && same_reason_ >= 2;
  reason_ = reason;
  same_reason_ = 1;
  step_ = moved_on ? 1 : step_ + 1;
  return step_;
}

}  // namespace pginit
