#include "migrations/run/blockers.h"

#include <chrono>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>

namespace pginit {
namespace {

constexpr Duration kLookTimeout{2000};
constexpr std::string_view kBlockersSql =
    "SELECT a.pid, coalesce(a.state, ''), coalesce(a.application_name, ''), "
    "coalesce(to_char(a.query_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
    "coalesce(round(extract(epoch FROM now() - a.xact_start))::text, ''), coalesce(a.query, '') "
    "FROM pg_stat_activity a WHERE a.pid = ANY(pg_blocking_pids($1::int)) ORDER BY a.pid";

}  // namespace

std::string describe_blockers(const std::vector<Blocker>& blockers) {
  if (blockers.empty()) return "an unknown session";
  std::string text;
  for (const Blocker& blocker : blockers) {
    if (!text.empty()) text += "; ";
    text += fmt::format("pid {} (", blocker.pid);
    if (blocker.state.empty()) {
      // pg_stat_activity hides other roles' sessions from a role without pg_read_all_stats.
      text += fmt::format("application_name={}, more with pg_read_all_stats)", blocker.application_name);
      continue;
    }
    text += fmt::format("state={}, application_name={}, query_start={}", blocker.state, blocker.application_name,
                        blocker.query_start);
    if (!blocker.transaction_age.empty()) text += fmt::format(", transaction open {}s", blocker.transaction_age);
    text += ")";
  }
  return text;
}

struct BlockerWatch::State {
  State(asio::any_io_executor executor, Duration after) : timer(executor), after(after) {}
  asio::steady_timer timer;
  Duration after;
  // Moving a deadline is free; only the timer's expiry costs system calls, so progress() leaves
  // the timer alone unless it is parked, and an expiry before the deadline just waits on.
  std::chrono::steady_clock::time_point deadline;
  bool parked = false;  ///< looked at this stall already: wait for progress
  bool stopped = false;
  std::vector<Blocker> blockers;
};

namespace {

// `conn` is only touched while its statements still run: the watch is destroyed before the
// connection is.
Task<void> look(PgConn& conn, int backend_pid, std::shared_ptr<BlockerWatch::State> state) {
  while (true) {
    state->timer.expires_at(state->parked ? std::chrono::steady_clock::time_point::max() : state->deadline);
    co_await state->timer.async_wait(kAsValues);
    if (state->stopped) co_return;
    if (state->parked || std::chrono::steady_clock::now() < state->deadline) continue;
    state->parked = true;
    const QueryParams params{std::to_string(backend_pid)};
    QueryResult result = co_await conn.query_aside(kBlockersSql, params, kLookTimeout);
    if (state->stopped) co_return;
    if (!result.ok()) continue;
    state->blockers.clear();
    for (const Row& row : result.rows) {
      state->blockers.push_back({row[0].value_or(""), row[1].value_or(""), row[2].value_or(""), row[3].value_or(""),
                                 row[4].value_or(""), row[5].value_or("")});
    }
  }
}

}  // namespace

BlockerWatch::BlockerWatch(PgConn& conn, Duration after) : state_(std::make_shared<State>(conn.executor(), after)) {
  state_->deadline = std::chrono::steady_clock::now() + after;
  asio::co_spawn(conn.executor(), look(conn, conn.backend_pid(), state_), asio::detached);
}

BlockerWatch::~BlockerWatch() {
  state_->stopped = true;
  state_->timer.cancel();
}

void BlockerWatch::progress() {
  State& state = *state_;
  state.deadline = std::chrono::steady_clock::now() + state.after;
  if (state.parked) {
    state.parked = false;
    state.timer.cancel();  // the look wakes and waits for the new deadline
  }
}

const std::vector<Blocker>& BlockerWatch::seen() const {
  return state_->blockers;
}

}  // namespace pginit
