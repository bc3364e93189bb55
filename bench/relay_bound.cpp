#include "bench/relay_bound.hpp"

#include <pthread.h>

#include <atomic>
#include <deque>
#include <thread>

#include "broker/delivery/beast_transport.hpp"
#include "broker/http/http_server.hpp"

namespace sektorbro::bench {

struct RelayBound::Impl {
  Impl(std::string to_url, int window_size)
      : to(std::move(to_url)),
        window(window_size),
        server(http_io, HttpLimits{},
               [this](HttpRequest request, PeerIdentity) -> asio::awaitable<HttpResponse> {
                 take(std::move(request.body()));
                 co_return make_response(http::status::accepted, "<Accepted/>",
                                         "application/xml; charset=utf-8");
               }) {
    server.set_handler_executor(io.get_executor());
  }

  // On the io thread: the window and the queue are its own.
  void take(std::string body) {
    waiting.push_back(std::move(body));
    pump();
  }
  void pump() {
    while (in_flight < window && !waiting.empty()) {
      ++in_flight;
      OutboundRequest request{to, std::move(waiting.front()), "application/xml; charset=utf-8",
                              std::chrono::seconds{10}};
      waiting.pop_front();
      // `done` runs on the transport's thread; back to the io thread for the window.
      transport.post(std::move(request), [this](TransportResponse response) {
        if (response.http_status / 100 != 2) failures.fetch_add(1);
        asio::post(io, [this] {
          --in_flight;
          pump();
        });
      });
    }
  }

  const std::string to;
  const int window;
  std::atomic<std::size_t> failures{0};
  int in_flight = 0;
  std::deque<std::string> waiting;
  // Declared so that they go in this order: the transport first (its callbacks post to io),
  // then the server, then io, then http_io, which outlives io as in main.cpp.
  asio::io_context http_io{1};
  asio::io_context io{1};
  HttpServer server;
  BeastTransport transport;
  unsigned short bound_port = 0;
  std::thread http_thread, io_thread;
};

Result<std::unique_ptr<RelayBound>> RelayBound::start(unsigned short port, std::string to,
                                                      int window) {
  auto impl = std::make_unique<Impl>(std::move(to), window < 1 ? 1 : window);
  auto bound = impl->server.listen("127.0.0.1", port);
  if (!bound) return bound.error();
  impl->bound_port = *bound;
  Impl& i = *impl;
  i.http_thread = std::thread([&i] {
    pthread_setname_np(pthread_self(), "sb-http");
    auto work = asio::make_work_guard(i.http_io);
    i.http_io.run();
  });
  i.io_thread = std::thread([&i] {
    pthread_setname_np(pthread_self(), "io");  // as the bench names the broker's main thread
    auto work = asio::make_work_guard(i.io);
    i.io.run();
  });
  return std::unique_ptr<RelayBound>(new RelayBound(std::move(impl)));
}

RelayBound::RelayBound(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RelayBound::~RelayBound() {
  asio::post(impl_->http_io, [i = impl_.get()] { i->server.stop(); });
  impl_->io.stop();
  impl_->io_thread.join();
  impl_->http_io.stop();
  impl_->http_thread.join();
}

unsigned short RelayBound::port() const { return impl_->bound_port; }

std::size_t RelayBound::failed() const { return impl_->failures.load(); }

}  // namespace sektorbro::bench
