#include "tests/support/http_receiver.hpp"

// clang-format off
#include <utility>  // before Asio: Boost 1.74's awaitable uses std::exchange without it
// clang-format on

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace sektorbro::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Large enough for any body a broker test sends, including over-limit ones.
constexpr std::uint64_t kBodyLimit = 64 * 1024 * 1024;

std::string verified_client_cn(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return {};
  std::string cn;
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    char buffer[256] = {};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buffer,
                                  sizeof buffer) > 0)
      cn = buffer;
  }
  X509_free(cert);
  return cn;
}

}  // namespace

struct HttpReceiver::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  unsigned short port = 0;
  std::unique_ptr<asio::ssl::context> tls;  // null: plain HTTP
  std::thread thread;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  Handler handler;                        // guarded by mu
  std::vector<ReceivedRequest> received;  // guarded by mu

  ReplyPlan plan_for(const ReceivedRequest& request) {
    Handler h;
    {
      std::lock_guard lock(mu);
      received.push_back(request);
      h = handler;
    }
    cv.notify_all();
    if (!h) return ReplyPlan{};
    try {
      return h(request);
    } catch (...) {
      return ReplyPlan{500, "handler threw", "text/plain", std::chrono::milliseconds{0}};
    }
  }

  template <typename Stream>
  asio::awaitable<void> serve(Stream& stream, std::string client_cn) {
    beast::flat_buffer buffer;
    try {
      for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(kBodyLimit);
        co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
        http::request<http::string_body> request = parser.release();

        ReceivedRequest received_request{
            std::string(request.method_string()), std::string(request.target()),
            std::string(request[http::field::content_type]), std::move(request.body()), client_cn};
        const ReplyPlan plan = plan_for(received_request);
        if (plan.delay.count() > 0) {
          asio::steady_timer timer(stream.get_executor(), plan.delay);
          co_await timer.async_wait(asio::use_awaitable);
        }

        http::response<http::string_body> response;
        response.version(request.version());
        response.result(static_cast<unsigned>(plan.status));
        response.set(http::field::server, "sektorbro-test-receiver");
        if (!plan.content_type.empty()) response.set(http::field::content_type, plan.content_type);
        response.keep_alive(request.keep_alive());
        response.body() = plan.body;
        response.prepare_payload();
        co_await http::async_write(stream, response, asio::use_awaitable);
        if (!response.keep_alive()) break;
      }
    } catch (const std::exception&) {
      // The peer closed or sent garbage: this connection ends, the server goes on.
    }
  }

  asio::awaitable<void> serve_plain(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    auto serving = serve(stream, std::string());
    co_await std::move(serving);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  asio::awaitable<void> serve_tls(tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
    beast::error_code ec;
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds{10});
    auto handshaking = stream.async_handshake(asio::ssl::stream_base::server,
                                              asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(handshaking);
    if (ec) co_return;  // refused client: nothing recorded
    beast::get_lowest_layer(stream).expires_never();
    auto serving = serve(stream, verified_client_cn(stream.native_handle()));
    co_await std::move(serving);
    beast::error_code ignored;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  asio::awaitable<void> accept_loop() {
    try {
      for (;;) {
        tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
        if (tls != nullptr) {
          asio::co_spawn(io, serve_tls(std::move(socket)), asio::detached);
        } else {
          asio::co_spawn(io, serve_plain(std::move(socket)), asio::detached);
        }
      }
    } catch (const std::exception&) {
      // The acceptor failed or was closed: no new connections.
    }
  }
};

HttpReceiver::HttpReceiver(Handler handler, unsigned short port) : impl_(std::make_unique<Impl>()) {
  start(std::move(handler), port);
}

void HttpReceiver::start(Handler handler, unsigned short port) {
  impl_->handler = std::move(handler);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  try {
    impl_->acceptor.open(endpoint.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(endpoint);
    impl_->acceptor.listen();
  } catch (const boost::system::system_error& e) {
    throw std::system_error(e.code().value(), std::generic_category(),
                            "cannot listen on 127.0.0.1:" + std::to_string(port));
  }
  impl_->port = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

HttpReceiver::HttpReceiver(Handler handler, unsigned short port, const ReceiverTls& tls)
    : impl_(std::make_unique<Impl>()) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  beast::error_code ec;
  auto check = [&ec](const std::string& what) {
    if (ec) throw std::runtime_error("test receiver: cannot load " + what + ": " + ec.message());
  };
  ctx->use_certificate_chain_file(tls.certificate_file, ec);
  check(tls.certificate_file);
  ctx->use_private_key_file(tls.key_file, asio::ssl::context::pem, ec);
  check(tls.key_file);
  if (!tls.client_ca_file.empty()) {
    ctx->load_verify_file(tls.client_ca_file, ec);
    check(tls.client_ca_file);
    ctx->set_verify_mode(
        asio::ssl::verify_peer |
        (tls.require_client_certificate ? asio::ssl::verify_fail_if_no_peer_cert : 0));
    static const unsigned char kContext[] = "sektorbro-test-receiver";
    SSL_CTX_set_session_id_context(ctx->native_handle(), kContext, sizeof kContext - 1);
  }
  impl_->tls = std::move(ctx);
  start(std::move(handler), port);
}

HttpReceiver::~HttpReceiver() {
  impl_->io.stop();
  impl_->thread.join();
  // Coroutine frames still suspended (open connections, pending delays) are destroyed with the
  // io_context, after the thread has stopped.
}

unsigned short HttpReceiver::port() const { return impl_->port; }

std::string HttpReceiver::url(const std::string& path) const {
  return (impl_->tls != nullptr ? "https://127.0.0.1:" : "http://127.0.0.1:") +
         std::to_string(port()) + path;
}

void HttpReceiver::set_handler(Handler handler) {
  std::lock_guard lock(impl_->mu);
  impl_->handler = std::move(handler);
}

std::vector<ReceivedRequest> HttpReceiver::received() const {
  std::lock_guard lock(impl_->mu);
  return impl_->received;
}

bool HttpReceiver::wait_until(const std::function<bool(const std::vector<ReceivedRequest>&)>& pred,
                              std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return pred(impl_->received); });
}

}  // namespace sektorbro::testing
