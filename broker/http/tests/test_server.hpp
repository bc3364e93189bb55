// Test helpers for HttpServer: a server on its own io_context thread that records the identity
// of every peer it hands to the handler, a test PKI made by deploy/make-test-pki.sh, and small
// clients (TLS, raw TCP) with bounded waits.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "broker/http/http_server.hpp"

namespace sektorbro::testing {

// The test PKI, made once per process into a temporary folder (removed at exit).
class TestPki {
 public:
  static const TestPki& get();
  std::string path(const std::string& name) const;  // e.g. path("ca.pem")
  std::string dir;
};

class TestServer {
 public:
  explicit TestServer(HttpLimits limits = {});
  ~TestServer();

  Result<unsigned short> listen_plain(const std::string& address);
  Result<unsigned short> listen_tls(const TlsServerOptions& tls);
  void start();  // runs the io_context on a thread of its own

  std::vector<PeerIdentity> peers() const;  // one per request handled, in order
  // While held, the handler records the peer and then waits before it answers (a handler that
  // is busy, e.g. waiting for a commit), so the request's body stays buffered.
  void hold_requests();
  void release_requests();
  // Waits (bounded, 10 s) until at least `n` requests reached the handler.
  bool wait_for_requests(std::size_t n) const;
  // Bytes the server holds for request bodies now (read on the server's thread).
  std::size_t buffered_bytes();

 private:
  friend asio::awaitable<HttpResponse> record_and_answer(TestServer* server, PeerIdentity peer);

  asio::io_context io_{1};
  asio::steady_timer release_{io_};  // cancelled to wake held handlers
  bool held_ = false;                // read and written on the server's thread only
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::vector<PeerIdentity> peers_;
};

// What a client got: an HTTP status, or an error (handshake refused, connection closed).
struct ClientResult {
  int status = 0;
  std::string body;
  std::string error;
};

// GET / over TLS to 127.0.0.1:`port`, verifying the server against `ca` (host "localhost"),
// presenting `certificate`/`key` when given. Bounded by a 10 s timeout.
ClientResult tls_get(unsigned short port, const std::string& ca, const std::string& certificate,
                     const std::string& key);

// A raw TCP connection with a receive timeout, for plain HTTP and connection limits.
class RawClient {
 public:
  // Connects from `source` (a loopback address) to 127.0.0.1:`port`.
  RawClient(unsigned short port, const std::string& source = "127.0.0.1");
  ~RawClient();
  // Sends one GET and reads one response; status 0 and an error when the server closed.
  ClientResult get(bool keep_alive, const std::string& target = "/");
  // Sends `bytes` as they are (false if the send failed).
  bool send(const std::string& bytes);
  // Reads one response (answers with Content-Length); status 0 and an error when the server
  // closed or nothing came within the timeout.
  ClientResult read_response();
  // Reads until the server closes; true if it did within the timeout, sending nothing.
  bool closed_by_server();

 private:
  int fd_ = -1;
  std::string pending_;
};

}  // namespace sektorbro::testing
