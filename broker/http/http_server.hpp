// HttpServer: an HTTP/1.1 listener on an io_context (Beast). Each connection has a reader
// coroutine and a writer coroutine: the reader reads requests ahead while earlier ones are
// handled (HTTP/1.1 pipelining, up to HttpLimits::max_pipelined_requests), the writer writes the
// answers in the order the requests came.
// It enforces the transport limits — connections per client address, header size, body size,
// header and body timeouts (the TLS handshake counts towards the header timeout) — before any
// handler sees a byte, answers what it refuses itself (413, 431, 400, 408, 503) and hands each
// complete request to the handler together with the peer's identity. It knows nothing about
// messages, endpoints or operators: deciding what an identity may do is the handler's job.
//
// Transport security (issue 5, "Identity and access"): a listener is either TLS (1.2 or newer,
// OpenSSL through Asio, optionally requiring client certificates verified against a CA bundle)
// or plain HTTP, and plain HTTP is refused on any address that is not loopback.
//
// Thread rules: construct, listen and stop on the io_context's thread (or before it runs). The
// handler runs on that thread too, unless set_handler_executor() names another: then the
// server's thread only moves bytes (accept, TLS, read, parse, write) and each request hops to
// the handler's executor and its answer back. buffered_bytes() may be read from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "broker/core/result.hpp"
#include "broker/core/time.hpp"
#include "broker/http/asio.hpp"

namespace boost::asio::ssl {
class context;
}

namespace sektorbro {

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// Who is on the other end of a connection, as far as the transport can tell.
struct PeerIdentity {
  bool tls = false;                // the connection is TLS
  bool client_verified = false;    // a client certificate was presented and verified against the CA
  std::string subject_cn;          // the verified certificate's subject CN (UTF-8), else empty
  std::string fingerprint_sha256;  // lowercase hex SHA-256 of the verified certificate's DER
  std::string remote_address;      // the client's IP address, e.g. "127.0.0.1"
};

using HttpHandler = std::function<asio::awaitable<HttpResponse>(HttpRequest, PeerIdentity)>;

struct HttpLimits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  Duration header_timeout = std::chrono::seconds{10};  // from connection idle to full header
  Duration body_timeout = std::chrono::seconds{30};    // for the body once the header is in
  // Connections open at once from one IP address; more are closed at once, unanswered.
  std::size_t max_connections_per_client = 64;
  // Bytes held for request bodies across all connections (issue 12, item 6: without it, two
  // client addresses took the broker to 533 MiB). A request is counted from its header until
  // its answer is written: at its Content-Length, which must fit or it is answered 503 unread;
  // a chunked body as it arrives (the memory its body holds), answered 503 when it outgrows it.
  std::size_t max_buffered_bytes = 64 * 1024 * 1024;
  // Requests one connection may have read and not yet answered (HTTP/1.1 pipelining, RFC 9112
  // §9.3.2). Pipelined requests are handled side by side, as if each had a connection of its
  // own, and answered in the order they came; 1 reads a request only once the one before it is
  // answered. A client must not pipeline a request behind one whose answer it depends on (a
  // receipt behind its letter): RFC 9112 asks clients not to pipeline after a non-idempotent
  // request unless they can recover, and a MedCom sender recovers by sending again.
  std::size_t max_pipelined_requests = 8;
};

// The server side of TLS. Files are PEM.
struct TlsServerOptions {
  std::string certificate_file;  // the server's certificate, optionally followed by its chain
  std::string key_file;          // its private key (unencrypted)
  // CA bundle that client certificates must chain to. Empty: no client certificate is asked for.
  std::string client_ca_file;
  // With a client CA: true refuses a handshake without a client certificate; false lets such a
  // client in unverified (client_verified false). A certificate that is presented and does not
  // verify (unknown CA, expired) always fails the handshake.
  bool require_client_certificate = true;
};

class HttpServer {
 public:
  HttpServer(asio::io_context& io, HttpLimits limits, HttpHandler handler);
  ~HttpServer();

  // Binds plain HTTP and starts accepting. Refuses (kConfig) any address that is not loopback:
  // plain HTTP carries no identity and no secrecy. Returns the bound port (useful with port 0).
  Result<unsigned short> listen(const std::string& address, unsigned short port);
  // Loads the certificate, key and client CA (kConfig naming the file that fails), binds TLS and
  // starts accepting. Returns the bound port.
  Result<unsigned short> listen_tls(const std::string& address, unsigned short port,
                                    const TlsServerOptions& tls);
  // Stops accepting and closes idle connections; requests in progress finish.
  void stop();
  // Bytes counted for request bodies now, across all connections.
  std::size_t buffered_bytes() const { return buffered_->load(std::memory_order_relaxed); }
  // Requests read (at least their header) and not yet answered, across all connections: with a
  // handler executor a request is on its way to the handler before the handler counts it, so
  // the drain at shutdown waits for this.
  std::size_t requests_in_progress() const { return in_progress_->load(); }
  // Runs every request's handler on `executor` (the broker's thread) rather than on the
  // server's io_context, and resumes the connection on the server's thread with the answer.
  // The daemon serves its connections on a thread of their own this way (issue 8: the one io
  // thread was the broker's bottleneck, a third of it the kernel's loopback TCP). Set before
  // listen().
  void set_handler_executor(asio::any_io_executor executor) {
    handler_executor_ = std::move(executor);
  }

 private:
  // Connections open per client address; shared with the connections' coroutine frames, which
  // may outlive the server when the io_context is destroyed after it.
  using ConnectionCounts = std::map<std::string, std::size_t>;
  class ConnectionSlot;
  class BodyReservation;

  Result<unsigned short> bind(const std::string& address, unsigned short port);
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> plain_session(tcp::socket socket, ConnectionSlot slot);
  asio::awaitable<void> tls_session(tcp::socket socket, ConnectionSlot slot);
  struct PendingAnswer;
  struct Pipeline;
  // Serves one connection's requests until it closes; true if it closes after a refusal, when
  // the client may still be sending what was refused (then the session lingers: linger()).
  template <typename Stream>
  asio::awaitable<bool> serve(Stream& stream, const PeerIdentity& peer);
  template <typename Stream>
  asio::awaitable<void> write_answers(Stream& stream, std::shared_ptr<Pipeline> pipeline);
  asio::awaitable<void> answer(std::shared_ptr<Pipeline> pipeline,
                               std::shared_ptr<PendingAnswer> pending, HttpRequest request,
                               PeerIdentity peer);

  asio::io_context& io_;
  HttpLimits limits_;
  HttpHandler handler_;
  tcp::acceptor acceptor_;
  std::unique_ptr<asio::ssl::context> tls_;  // null: plain HTTP
  std::shared_ptr<ConnectionCounts> connections_;
  // Bytes reserved for request bodies now; shared with the connections like connections_.
  // Changed on the server's thread only; atomic so that buffered_bytes() may be read elsewhere.
  std::shared_ptr<std::atomic<std::size_t>> buffered_;
  std::shared_ptr<std::atomic<std::size_t>> in_progress_;  // likewise
  asio::any_io_executor handler_executor_;                 // empty: the handler runs on io_
  // Waits between accept attempts while the process is out of file descriptors (issue 12,
  // item 7); cancelled by stop().
  asio::steady_timer accept_pause_;
  bool stopping_ = false;
};

// A plain-text or JSON/XML answer with the usual headers.
HttpResponse make_response(http::status status, std::string body, std::string content_type,
                           unsigned version = 11);

}  // namespace sektorbro
