#include "bench/counting_receiver.hpp"

#include <cstring>
#include <exception>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/http_head.hpp"
// clang-format off
#include <utility>  // before Asio: Boost 1.74's awaitable uses std::exchange without it
#include "broker/http/asio.hpp"
// clang-format on

namespace sektorbro::bench {
namespace {

// As testing::HttpReceiver answers with the default ReplyPlan (200, no body).
constexpr std::string_view kOk =
    "HTTP/1.1 200 OK\r\nServer: sektorbro-bench-receiver\r\n"
    "Content-Type: application/xml; charset=utf-8\r\nContent-Length: 0\r\n\r\n";
constexpr std::string_view kOkClose =
    "HTTP/1.1 200 OK\r\nServer: sektorbro-bench-receiver\r\n"
    "Content-Type: application/xml; charset=utf-8\r\nContent-Length: 0\r\nConnection: "
    "close\r\n\r\n";

}  // namespace

struct CountingReceiver::Impl {
  explicit Impl(std::function<void()> f) : on_request(std::move(f)) {}

  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  unsigned short port = 0;
  std::function<void()> on_request;
  std::thread thread;

  // One connection: requests parsed from one growing buffer, answered in order.
  asio::awaitable<void> serve(tcp::socket socket) {
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    std::vector<char> in(16 * 1024);
    std::size_t used = 0;
    while (!ec) {
      const HttpHead h = parse_http_head(std::string_view(in.data(), used), false);
      if (h.state == HeadState::malformed || h.chunked) break;
      if (h.state == HeadState::complete) {
        const std::size_t total = h.size + h.content_length;
        if (used >= total) {
          on_request();
          const std::string_view answer = h.close ? kOkClose : kOk;
          co_await asio::async_write(socket, asio::buffer(answer.data(), answer.size()),
                                     asio::redirect_error(asio::use_awaitable, ec));
          if (h.close) break;
          std::memmove(in.data(), in.data() + total, used - total);
          used -= total;
          continue;
        }
        if (in.size() < total) in.resize(total);
      } else if (used == in.size()) {
        in.resize(in.size() * 2);
      }
      used += co_await socket.async_read_some(asio::buffer(in.data() + used, in.size() - used),
                                              asio::redirect_error(asio::use_awaitable, ec));
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;  // closed: no new connections
      asio::co_spawn(io, serve(std::move(socket)), asio::detached);
    }
  }
};

CountingReceiver::CountingReceiver(std::function<void()> on_request)
    : impl_(std::make_unique<Impl>(std::move(on_request))) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

CountingReceiver::~CountingReceiver() {
  impl_->io.stop();
  impl_->thread.join();
}

unsigned short CountingReceiver::port() const { return impl_->port; }

std::string CountingReceiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(impl_->port) + path;
}

}  // namespace sektorbro::bench
