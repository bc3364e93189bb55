// Await work that completes on another thread. `start` receives a callback that may be called
// once, from any thread; the awaiting coroutine resumes on its own executor with the value.
// This is how coroutines on the io thread wait for the GroupCommitWriter or a transport.
#pragma once

#include <memory>

#include "broker/http/asio.hpp"

namespace sektorbro {

template <typename T, typename Start>
asio::awaitable<T> await_callback(Start start) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(T)>(
      [start = std::move(start)](auto handler) mutable {
        using Handler = decltype(handler);
        auto shared = std::make_shared<Handler>(std::move(handler));
        auto executor = asio::get_associated_executor(*shared);
        start([shared, executor](T value) mutable {
          asio::post(executor,
                     [shared, value = std::move(value)]() mutable { (*shared)(std::move(value)); });
        });
      },
      asio::use_awaitable);
}

// Runs `work` (a callable returning T) on `executor` — another thread's — and resumes the
// awaiting coroutine on its own executor with the value. For pure CPU work only: `work` must not
// touch state the awaiting thread owns.
template <typename T, typename Work>
asio::awaitable<T> run_on(asio::any_io_executor executor, Work work) {
  return await_callback<T>([executor, work = std::move(work)](auto done) mutable {
    asio::post(executor,
               [work = std::move(work), done = std::move(done)]() mutable { done(work()); });
  });
}

}  // namespace sektorbro
