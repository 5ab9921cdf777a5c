#pragma once

// The controller's thread (cluster/README.md "Ownership and threading"): every call into
// cluster::controller runs here, because its appends block on fdatasync and must not stall a
// shard that serves clients. Handlers reach it with on_controller(), which posts the call and
// suspends the handler; the handler resumes on its own shard.

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>

#include "cluster/controller.h"

namespace sluice::server {

// One thread running one io_context. start() and stop() are called by the broker only.
class controller_thread {
 public:
  controller_thread();
  ~controller_thread();
  controller_thread(const controller_thread&) = delete;
  controller_thread& operator=(const controller_thread&) = delete;

  void start();
  // Lets queued calls finish, then joins the thread.
  void stop();
  asio::io_context::executor_type executor() { return _io.get_executor(); }

 private:
  asio::io_context _io{1};
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> _work;
  std::thread _thread;
};

// Runs `fn(controller)` on the controller's thread; co_await the result on the caller's shard,
// where the caller resumes. `fn` is moved into the operation, so it owns what it captures:
// capture by value. Deliberately not a coroutine itself: GCC 12 mishandles a by-value
// coroutine parameter moved into a lambda capture (double destruction).
template <typename Fn>
asio::awaitable<std::invoke_result_t<Fn&, cluster::controller&>> on_controller(
    asio::io_context::executor_type executor, cluster::controller* controller, Fn fn) {
  using result_type = std::invoke_result_t<Fn&, cluster::controller&>;
  return asio::co_spawn(
      executor,
      [controller, fn = std::move(fn)]() mutable -> asio::awaitable<result_type> {
        co_return fn(*controller);
      },
      asio::use_awaitable);
}

}  // namespace sluice::server
