#include "async.h"

namespace pginit {

// Out of line: GCC 12 names a coroutine frame's temporaries per translation unit, so an inline
// coroutine used in several of them trips LTO's one-definition-rule check.
Task<bool> sleep_for(Duration delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  auto [error] = co_await timer.async_wait(kAsValues);
  co_return !error && !co_await stop_requested();
}

}  // namespace pginit
