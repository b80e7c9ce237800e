#pragma once
// When another replica's lease counts as stale (pure): judged by the waiter's own clock.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "duration.h"

namespace pginit {

/// A lease as one look at its row showed it.
struct LeaseSighting {
  std::string holder;
  std::int64_t token = 0;  ///< its last renewal, as HistoryTable::lease_token_of gives it

  bool operator==(const LeaseSighting&) const = default;
};

/// A holder renews its lease every period / 3. A lease seen unchanged (same holder, same renewal)
/// for a whole period of the waiter's own clock is stale and may be taken over, by a claim that
/// names what was seen (so that a renewal in between wins). The server's clock against the renewal
/// time is not used: a holder's renewal may wait in a pooler's queue (a pool of one, held by the
/// holder's own long statement) just as long as the waiter's look does, and a pooler serves its
/// queue in order, so between two looks a period apart the holder's renewal has had its turn.
class LeaseSightings {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LeaseSightings(Duration period) : period_(period) {}

  /// Records a look at the lease (nullopt: there was none).
  void see(const std::optional<LeaseSighting>& lease, Clock::time_point now);
  /// Forgets what was seen: its holder was seen at work (its row locked by a running file).
  void forget() { first_.reset(); }
  /// The lease to take over: the one seen, unchanged, for a whole period by `now`; else nullopt.
  std::optional<LeaseSighting> stale(Clock::time_point now) const;
  /// How long the lease has been seen as it is now (0 when there is none).
  Duration unchanged_for(Clock::time_point now) const;

 private:
  Duration period_;
  std::optional<LeaseSighting> first_;
  Clock::time_point first_at_{};
};

}  // namespace pginit
