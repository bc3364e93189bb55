// sektorbro-relay-bound: the broker with everything taken out but its two HTTP hops — the
// ceiling that the side-by-side bench's delivered rate can reach on a machine with this design
// (one HTTP/1.1 exchange per letter on each hop) and these libraries (issue 8; run by
// `sektorbro-sidebyside-bench --relay-bound`; docs/performance.md, "The two hops alone").
//
//   sektorbro-relay-bound --port P --to URL [--window 64]
//
// It is made of the broker's own shell: `HttpServer` with its connections on an `sb-http`
// thread and every request handled on the main (io) thread, as main.cpp wires them, and
// `CurlTransport` on its `sb-curl` thread; jemalloc when the broker uses it. Each POST is
// answered 202 at once and its body posted to URL, at most `window` transfers in flight (the
// broker's default `per_endpoint_concurrency`), the rest queued in memory. Nothing is decoded,
// checked, stored, fsynced or audited, so it is an upper bound and not a broker: what it loses
// on a crash is everything. Stops on SIGTERM or SIGINT.
#include <pthread.h>

#include <cstdlib>
#include <deque>
#include <iostream>
#include <string>
#include <thread>

#include "broker/delivery/curl_transport.hpp"
#include "broker/http/http_server.hpp"

namespace sektorbro::bench {
namespace {

// Owned by the io thread: the bodies waiting for a place in the window, and the places taken.
class Relay {
 public:
  Relay(asio::io_context& io, Transport& transport, std::string url, int window)
      : io_(io), transport_(transport), url_(std::move(url)), window_(window) {}

  void take(std::string body) {
    waiting_.push_back(std::move(body));
    pump();
  }

 private:
  void pump() {
    while (in_flight_ < window_ && !waiting_.empty()) {
      ++in_flight_;
      OutboundRequest request{url_, std::move(waiting_.front()), "application/xml; charset=utf-8",
                              std::chrono::seconds{10}};
      waiting_.pop_front();
      // `done` runs on the transport's thread; the window is the io thread's.
      transport_.post(std::move(request), [this](TransportResponse response) {
        asio::post(io_, [this, failed = response.http_status / 100 != 2] {
          --in_flight_;
          if (failed && !reported_) {
            reported_ = true;
            std::cerr << "relay-bound: a transfer failed (answers are not retried)\n";
          }
          pump();
        });
      });
    }
  }

  asio::io_context& io_;
  Transport& transport_;
  const std::string url_;
  const int window_;
  int in_flight_ = 0;
  bool reported_ = false;
  std::deque<std::string> waiting_;
};

int run(unsigned short port, const std::string& to, int window) {
  asio::io_context http_io{1};  // outlives io, as in main.cpp
  asio::io_context io{1};
  CurlTransport transport;
  Relay relay(io, transport, to, window);
  HttpServer server(http_io, HttpLimits{},
                    [&relay](HttpRequest request, PeerIdentity) -> asio::awaitable<HttpResponse> {
                      relay.take(std::move(request.body()));
                      co_return make_response(http::status::accepted, "<Accepted/>",
                                              "application/xml; charset=utf-8");
                    });
  server.set_handler_executor(io.get_executor());
  auto bound = server.listen("127.0.0.1", port);
  if (!bound) {
    std::cerr << "relay-bound: " << bound.error().detail << "\n";
    return 1;
  }
  std::cout << "relaying http://127.0.0.1:" << *bound << " to " << to << std::endl;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  auto http_work = asio::make_work_guard(http_io);
  std::thread http_thread([&http_io] {
    pthread_setname_np(pthread_self(), "sb-http");
    http_io.run();
  });
  io.run();
  http_work.reset();
  http_io.stop();
  http_thread.join();
  return 0;
}

}  // namespace
}  // namespace sektorbro::bench

int main(int argc, char** argv) {
  long port = -1, window = 64;
  std::string to;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--port")
      port = std::strtol(argv[i + 1], nullptr, 10);
    else if (arg == "--to")
      to = argv[i + 1];
    else if (arg == "--window")
      window = std::strtol(argv[i + 1], nullptr, 10);
    else
      port = -2;
  }
  if (argc % 2 != 1 || port < 0 || port > 65535 || to.empty() || window < 1) {
    std::cerr << "usage: sektorbro-relay-bound --port P --to URL [--window 64]\n";
    return 2;
  }
  return sektorbro::bench::run(static_cast<unsigned short>(port), to, static_cast<int>(window));
}
