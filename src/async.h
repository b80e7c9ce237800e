#pragma once
// The vocabulary of pginit's one event loop: coroutines that never throw on I/O errors.
#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "duration.h"

namespace pginit {

template <class T>
using Task = asio::awaitable<T>;

/// Completion token: errors come back as values (std::tuple<error_code, …>), never as exceptions.
inline constexpr auto kAsValues = asio::experimental::as_tuple(asio::use_awaitable);

/// True once the phase running this coroutine was asked to stop (a TERM/INT arrived).
inline Task<bool> stop_requested() {
  auto state = co_await asio::this_coro::cancellation_state;
  co_return state.cancelled() != asio::cancellation_type::none;
}

/// Sleeps for `delay`; false if a stop request cut it short.
Task<bool> sleep_for(Duration delay);

}  // namespace pginit
