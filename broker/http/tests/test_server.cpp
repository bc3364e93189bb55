#include "broker/http/tests/test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <stdexcept>

namespace sektorbro::testing {

asio::awaitable<HttpResponse> record_and_answer(TestServer* server, PeerIdentity peer) {
  {
    std::lock_guard lock(server->mu_);
    server->peers_.push_back(std::move(peer));
  }
  server->changed_.notify_all();
  while (server->held_) {
    boost::system::error_code ec;
    auto waiting = server->release_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(waiting);
  }
  co_return make_response(http::status::ok, "hello\n", "text/plain");
}

namespace {

constexpr auto kClientTimeout = std::chrono::seconds{10};

std::string make_pki() {
  char tmpl[] = "/tmp/sektorbro-pki-XXXXXX";
  const char* dir = ::mkdtemp(tmpl);
  if (dir == nullptr) throw std::runtime_error("mkdtemp failed");
  const std::string command =
      std::string(SEKTORBRO_SOURCE_DIR) + "/deploy/make-test-pki.sh " + dir + " >/dev/null";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("make-test-pki.sh failed");
  return dir;
}

struct PkiHolder {
  TestPki pki;
  PkiHolder() { pki.dir = make_pki(); }
  ~PkiHolder() {
    std::error_code ec;
    std::filesystem::remove_all(pki.dir, ec);
  }
};

struct TlsCall {
  unsigned short port = 0;
  asio::ssl::context ctx{asio::ssl::context::tls_client};
  ClientResult result;
};

asio::awaitable<void> run_tls_call(TlsCall* call) {
  try {
    auto executor = co_await asio::this_coro::executor;
    beast::ssl_stream<beast::tcp_stream> stream(executor, call->ctx);
    SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
    stream.set_verify_callback(asio::ssl::host_name_verification("localhost"));
    beast::get_lowest_layer(stream).expires_after(kClientTimeout);
    const tcp::endpoint server(asio::ip::make_address("127.0.0.1"), call->port);
    auto connecting = beast::get_lowest_layer(stream).async_connect(server, asio::use_awaitable);
    co_await std::move(connecting);
    auto handshaking = stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    co_await std::move(handshaking);
    http::request<http::string_body> request{http::verb::get, "/", 11};
    request.set(http::field::host, "localhost");
    request.keep_alive(false);
    auto writing = http::async_write(stream, request, asio::use_awaitable);
    co_await std::move(writing);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    auto reading = http::async_read(stream, buffer, response, asio::use_awaitable);
    co_await std::move(reading);
    call->result.status = static_cast<int>(response.result_int());
    call->result.body = response.body();
  } catch (const std::exception& e) {
    call->result.error = e.what();
  }
}

}  // namespace

const TestPki& TestPki::get() {
  static PkiHolder holder;
  return holder.pki;
}

std::string TestPki::path(const std::string& name) const { return dir + "/" + name; }

TestServer::TestServer(HttpLimits limits)
    : server_(std::make_unique<HttpServer>(io_, limits, [this](HttpRequest, PeerIdentity peer) {
        return record_and_answer(this, std::move(peer));
      })) {}

TestServer::~TestServer() {
  if (thread_.joinable()) {
    asio::post(io_, [this] {
      server_->stop();
      io_.stop();
    });
    thread_.join();
  }
  server_.reset();
}

Result<unsigned short> TestServer::listen_plain(const std::string& address) {
  return server_->listen(address, 0);
}

Result<unsigned short> TestServer::listen_tls(const TlsServerOptions& tls) {
  return server_->listen_tls("127.0.0.1", 0, tls);
}

void TestServer::start() {
  thread_ = std::thread([this] { io_.run(); });
}

void TestServer::hold_requests() {
  asio::post(io_, [this] {
    held_ = true;
    release_.expires_at(asio::steady_timer::time_point::max());
  });
}

void TestServer::release_requests() {
  asio::post(io_, [this] {
    held_ = false;
    release_.cancel();
  });
}

bool TestServer::wait_for_requests(std::size_t n) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, kClientTimeout, [&] { return peers_.size() >= n; });
}

std::size_t TestServer::buffered_bytes() {
  std::promise<std::size_t> answer;
  asio::post(io_, [&] { answer.set_value(server_->buffered_bytes()); });
  auto future = answer.get_future();
  if (future.wait_for(kClientTimeout) != std::future_status::ready)
    throw std::runtime_error("the server's thread did not answer");
  return future.get();
}

std::vector<PeerIdentity> TestServer::peers() const {
  std::lock_guard lock(mu_);
  return peers_;
}

ClientResult tls_get(unsigned short port, const std::string& ca, const std::string& certificate,
                     const std::string& key) {
  TlsCall call;
  call.port = port;
  try {
    call.ctx.load_verify_file(ca);
    call.ctx.set_verify_mode(asio::ssl::verify_peer);
    if (!certificate.empty()) {
      call.ctx.use_certificate_chain_file(certificate);
      call.ctx.use_private_key_file(key, asio::ssl::context::pem);
    }
  } catch (const std::exception& e) {
    call.result.error = std::string("client setup: ") + e.what();
    return call.result;
  }
  asio::io_context io;
  asio::co_spawn(io, run_tls_call(&call), asio::detached);
  io.run();
  return call.result;
}

RawClient::RawClient(unsigned short port, const std::string& source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  timeval timeout{static_cast<time_t>(kClientTimeout.count()), 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0)
    throw std::runtime_error("bind to " + source + " failed");
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
    throw std::runtime_error("connect failed");
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

ClientResult RawClient::get(bool keep_alive, const std::string& target) {
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" +
                              (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
  if (!send(request)) return ClientResult{0, "", "send failed"};
  return read_response();
}

bool RawClient::send(const std::string& bytes) {
  return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(bytes.size());
}

ClientResult RawClient::read_response() {
  ClientResult result;
  // The test server's answers are small, with Content-Length: read the header, then the body.
  for (;;) {
    const auto end = pending_.find("\r\n\r\n");
    if (end != std::string::npos) {
      const auto length_at = pending_.find("Content-Length: ");
      const std::size_t length = length_at < end ? std::stoul(pending_.substr(length_at + 16)) : 0;
      if (pending_.size() >= end + 4 + length) {
        result.status = std::stoi(pending_.substr(9, 3));
        result.body = pending_.substr(end + 4, length);
        pending_.erase(0, end + 4 + length);
        return result;
      }
    }
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
      result.error = n == 0 ? "closed by server" : "receive failed or timed out";
      return result;
    }
    pending_.append(buffer, static_cast<std::size_t>(n));
  }
}

bool RawClient::closed_by_server() {
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

}  // namespace sektorbro::testing
