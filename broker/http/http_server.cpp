#include "broker/http/http_server.hpp"

#include <malloc.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <optional>

#include "broker/core/log.hpp"
#include "broker/http/request_target.hpp"

namespace sektorbro {
namespace {

using SslStream = beast::ssl_stream<beast::tcp_stream>;

constexpr char kHexDigits[] = "0123456789abcdef";
// Any fixed bytes: OpenSSL refuses to resume a session without one once peers are verified.
constexpr unsigned char kSessionIdContext[] = "sektorbro";

std::string hex(const unsigned char* bytes, std::size_t n) {
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kHexDigits[bytes[i] >> 4]);
    out.push_back(kHexDigits[bytes[i] & 0x0F]);
  }
  return out;
}

// The subject's CN when there is exactly one and it holds no NUL byte; otherwise empty, so a
// certificate built to be read two ways identifies no one.
std::string subject_cn(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  if (name == nullptr) return {};
  const int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (at < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, at) >= 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return {};
  std::string cn(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  if (cn.find('\0') != std::string::npos) return {};
  return cn;
}

// Fills the certificate fields of `peer` after a completed server handshake. Only a certificate
// that OpenSSL verified against the client CA counts.
void read_client_certificate(SSL* ssl, PeerIdentity& peer) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return;
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (X509_digest(cert, EVP_sha256(), digest, &length) == 1) {
      peer.client_verified = true;
      peer.subject_cn = subject_cn(cert);
      peer.fingerprint_sha256 = hex(digest, length);
    }
  }
  X509_free(cert);
}

// "::ffff:10.0.0.1" and "10.0.0.1" are one client for the connection cap.
std::string client_address(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

// An accept that fails for want of descriptors or kernel memory fails again at once until some
// are freed: retrying without a pause spins a core (issue 12, item 7).
bool is_resource_shortage(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  const int e = ec.value();
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

// Errors of the HTTP framing itself (bad chunk sizes, extensions, …), as opposed to the peer
// going away: these get a 400.
bool is_framing_error(const boost::system::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_chunk).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// A pipelined request often arrives in the same read as the one before it. Such a request is
// parsed from the read buffer directly, by the same parser Beast's reads use, rather than
// through async_read_header and async_read: those complete through the executor even when they
// need no socket read, one coroutine suspension and resumption each (issue 8, profile of the
// connection thread).
//
// Feeds `parser` the header `buffer` holds. True when the header is complete or refused (`ec`
// says why); false when more bytes must come from the socket (nothing is lost: the parser keeps
// its place and the bytes stay in `buffer`).
bool header_from_buffer(beast::flat_buffer& buffer, http::request_parser<http::string_body>& parser,
                        boost::system::error_code& ec) {
  if (buffer.size() == 0) return false;
  buffer.consume(parser.put(buffer.data(), ec));
  if (ec == http::error::need_more) {
    ec = {};
    return false;
  }
  return ec || parser.is_header_done();
}

// Feeds `parser` the body `buffer` holds. True when the message is complete or refused (`ec`);
// false when more must come from the socket.
bool body_from_buffer(beast::flat_buffer& buffer, http::request_parser<http::string_body>& parser,
                      boost::system::error_code& ec) {
  while (!parser.is_done() && buffer.size() > 0) {
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == http::error::need_more) {
      ec = {};
      return false;
    }
    if (ec) return true;
    if (used == 0) return false;
  }
  return parser.is_done();
}

constexpr auto kFirstAcceptPause = std::chrono::milliseconds{10};
constexpr auto kLongestAcceptPause = std::chrono::seconds{1};
// Freed bodies of at least this size make the allocator hand memory back to the system once
// nothing is buffered any more (glibc keeps freed heap otherwise; issue 12, item 6).
constexpr std::size_t kTrimAfterBytes = 256 * 1024;
// What one read from a connection may take in. Beast reads max(512, the buffer's free capacity)
// at a time, and a body read into a string body is consumed as it is read, so an unreserved
// buffer never grew past 512 bytes: a 4 KB message took nine recvmsg calls (issue 8, profile
// of the io thread). 32 KiB holds seven 4 KB messages with their headers: a client with
// several requests in flight has them taken in by one read and parsed from the buffer
// (header_from_buffer). It is held per open connection (64 connections: 2 MiB), beside the body
// budget above; 8 KiB, enough for one message, cost the connection thread ~4 µs more per letter
// under the pipelined bench load (docs/performance.md).
constexpr std::size_t kReadBufferBytes = 32 * 1024;
// Answers ready together are serialised into one buffer and written with one system call (a
// pipelined client's window of answers, ~500 bytes each, in one send instead of one each; a
// profile of the connection thread had a third of its time in those sends). A body larger than
// this is written from where it is, on its own, rather than copied.
constexpr std::size_t kBatchedBodyBytes = 16 * 1024;
constexpr std::size_t kBatchBytes = 64 * 1024;
// What a connection keeps of its batch buffer between writes: a pipelined window of letter
// answers fits; a larger batch's memory goes back at once, so that an idle connection holds no
// more than this for it.
constexpr std::size_t kKeptBatchBytes = 16 * 1024;

// A SyncWriteStream that appends what Beast's serializer writes to a string: the answers of a
// batch in their wire form, start line, fields and body as http::write makes them.
struct AppendingSink {
  std::string& out;
  template <typename ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
    ec = {};
    std::size_t n = 0;
    for (const auto b : beast::buffers_range_ref(buffers)) {
      out.append(static_cast<const char*>(b.data()), b.size());
      n += b.size();
    }
    return n;
  }
  template <typename ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers) {
    boost::system::error_code ec;
    return write_some(buffers, ec);
  }
};

Error tls_error(const std::string& what, const std::string& file,
                const boost::system::error_code& ec) {
  return make_error(Errc::kConfig, "cannot load TLS " + what + " '" + file + "': " + ec.message());
}

Result<std::unique_ptr<asio::ssl::context>> make_server_context(const TlsServerOptions& tls) {
  std::unique_ptr<asio::ssl::context> ctx;
  try {
    ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  } catch (const boost::system::system_error& e) {
    return make_error(Errc::kConfig, std::string("cannot set up TLS: ") + e.what());
  }
  SSL_CTX* native = ctx->native_handle();
  // TLS 1.2 is the oldest version without known protocol breaks; renegotiation only adds work
  // an attacker can ask for.
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1)
    return make_error(Errc::kConfig, "cannot restrict TLS to version 1.2 or newer");
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);

  boost::system::error_code ec;
  ctx->use_certificate_chain_file(tls.certificate_file, ec);
  if (ec) return tls_error("certificate", tls.certificate_file, ec);
  ctx->use_private_key_file(tls.key_file, asio::ssl::context::pem, ec);
  if (ec) return tls_error("key", tls.key_file, ec);
  if (SSL_CTX_check_private_key(native) != 1) {
    return make_error(Errc::kConfig, "TLS key '" + tls.key_file +
                                         "' does not belong to certificate '" +
                                         tls.certificate_file + "'");
  }
  if (!tls.client_ca_file.empty()) {
    ctx->load_verify_file(tls.client_ca_file, ec);
    if (ec) return tls_error("client CA", tls.client_ca_file, ec);
    // Tells clients which CAs we accept, so one holding several certificates picks the right one.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (names == nullptr) {
      return make_error(Errc::kConfig,
                        "TLS client CA '" + tls.client_ca_file + "' holds no certificate");
    }
    SSL_CTX_set_client_CA_list(native, names);
    asio::ssl::verify_mode mode = asio::ssl::verify_peer;
    if (tls.require_client_certificate) mode |= asio::ssl::verify_fail_if_no_peer_cert;
    ctx->set_verify_mode(mode, ec);
    if (ec) return make_error(Errc::kConfig, "cannot set TLS verification: " + ec.message());
    SSL_CTX_set_session_id_context(native, kSessionIdContext, sizeof kSessionIdContext - 1);
  } else if (tls.require_client_certificate) {
    return make_error(Errc::kConfig, "client certificates are required but no client CA is set");
  }
  return ctx;
}

// Counts a request in requests_in_progress() while it lives.
class InProgressToken {
 public:
  explicit InProgressToken(std::shared_ptr<std::atomic<std::size_t>> count)
      : count_(std::move(count)) {
    ++*count_;
  }
  InProgressToken(InProgressToken&& other) noexcept : count_(std::move(other.count_)) {}
  InProgressToken(const InProgressToken&) = delete;
  InProgressToken& operator=(const InProgressToken&) = delete;
  InProgressToken& operator=(InProgressToken&&) = delete;
  ~InProgressToken() {
    if (count_ != nullptr) --*count_;
  }

 private:
  std::shared_ptr<std::atomic<std::size_t>> count_;
};

}  // namespace

// One counted connection from one client address; the count drops when the slot (moved into the
// connection's coroutine) is destroyed.
class HttpServer::ConnectionSlot {
 public:
  ConnectionSlot(std::shared_ptr<ConnectionCounts> counts, std::string address)
      : counts_(std::move(counts)), address_(std::move(address)) {
    ++(*counts_)[address_];
  }
  ConnectionSlot(ConnectionSlot&& other) noexcept
      : counts_(std::move(other.counts_)), address_(std::move(other.address_)) {}
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ~ConnectionSlot() {
    if (counts_ == nullptr) return;
    const auto it = counts_->find(address_);
    if (it != counts_->end() && --it->second == 0) counts_->erase(it);
  }

  const std::string& address() const { return address_; }

 private:
  std::shared_ptr<ConnectionCounts> counts_;
  std::string address_;
};

// Bytes of the overall body budget held by one request; given back when destroyed.
class HttpServer::BodyReservation {
 public:
  BodyReservation() = default;
  BodyReservation(std::shared_ptr<std::atomic<std::size_t>> total, std::size_t bytes)
      : total_(std::move(total)), bytes_(bytes) {
    *total_ += bytes_;
  }
  BodyReservation(BodyReservation&& other) noexcept
      : total_(std::move(other.total_)), bytes_(other.bytes_) {}
  BodyReservation& operator=(BodyReservation&& other) noexcept {
    release();
    total_ = std::move(other.total_);
    bytes_ = other.bytes_;
    return *this;
  }
  BodyReservation(const BodyReservation&) = delete;
  BodyReservation& operator=(const BodyReservation&) = delete;
  ~BodyReservation() { release(); }

  // Counts `bytes` in all (a chunked body as it grows) if the total stays within `cap`.
  bool grow_to(std::size_t bytes, std::size_t cap) {
    if (bytes <= bytes_) return true;
    const std::size_t extra = bytes - bytes_;
    const std::size_t total = *total_;
    if (total > cap || extra > cap - total) return false;
    *total_ += extra;
    bytes_ = bytes;
    return true;
  }

  void release() {
    if (total_ == nullptr) return;
    if (total_->fetch_sub(bytes_) == bytes_ && bytes_ >= kTrimAfterBytes) malloc_trim(0);
    total_.reset();
  }

 private:
  std::shared_ptr<std::atomic<std::size_t>> total_;
  std::size_t bytes_ = 0;
};

HttpResponse make_response(http::status status, std::string body, std::string content_type,
                           unsigned version) {
  HttpResponse res{status, version};
  res.set(http::field::server, "sektorbro/0.1");
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

HttpServer::HttpServer(asio::io_context& io, HttpLimits limits, HttpHandler handler)
    : io_(io),
      limits_(limits),
      handler_(std::move(handler)),
      acceptor_(io),
      connections_(std::make_shared<ConnectionCounts>()),
      buffered_(std::make_shared<std::atomic<std::size_t>>(0)),
      in_progress_(std::make_shared<std::atomic<std::size_t>>(0)),
      accept_pause_(io) {}

HttpServer::~HttpServer() = default;

Result<unsigned short> HttpServer::listen(const std::string& address, unsigned short port) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) return make_error(Errc::kConfig, "listen address '" + address + "' is not an IP address");
  if (!ip.is_loopback()) {
    return make_error(Errc::kConfig, "plain HTTP is allowed on loopback only, not on " + address +
                                         ": configure tls");
  }
  tls_.reset();
  return bind(address, port);
}

Result<unsigned short> HttpServer::listen_tls(const std::string& address, unsigned short port,
                                              const TlsServerOptions& tls) {
  auto ctx = make_server_context(tls);
  if (!ctx) return ctx.error();
  tls_ = std::move(*ctx);
  return bind(address, port);
}

Result<unsigned short> HttpServer::bind(const std::string& address, unsigned short port) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) return make_error(Errc::kConfig, "listen address '" + address + "' is not an IP address");
  const tcp::endpoint endpoint{ip, port};
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(Errc::kConfig, "cannot listen on " + address + ":" + std::to_string(port) +
                                         ": " + ec.message());
  }
  const unsigned short bound = acceptor_.local_endpoint().port();
  asio::co_spawn(io_, accept_loop(), asio::detached);
  return bound;
}

void HttpServer::stop() {
  stopping_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  accept_pause_.cancel();
}

asio::awaitable<void> HttpServer::accept_loop() {
  // Out of descriptors: pause, doubling up to kLongestAcceptPause, and say so once per episode.
  std::chrono::milliseconds pause{0};
  while (!stopping_) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) co_return;
      if (!is_resource_shortage(ec)) continue;  // that one connection failed; the next may not
      if (pause.count() == 0) {
        log_warn("cannot accept connections: " + ec.message() +
                 "; serving the open ones and retrying (up to every " +
                 std::to_string(kLongestAcceptPause.count()) + " s) until descriptors are free");
        pause = kFirstAcceptPause;
      } else {
        pause = std::min<std::chrono::milliseconds>(pause * 2, kLongestAcceptPause);
      }
      accept_pause_.expires_after(pause);
      auto pausing = accept_pause_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      co_await std::move(pausing);
      continue;
    }
    if (pause.count() != 0) {
      log_info("accepting connections again");
      pause = std::chrono::milliseconds{0};
    }
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    if (ec) continue;  // already gone
    // Answers go out when written: Nagle's algorithm would hold a small answer back until the
    // peer acknowledges the previous segment (up to its delayed-ACK timer, ~40 ms on Linux).
    socket.set_option(tcp::no_delay(true), ec);
    std::string address = client_address(remote.address());
    if (const auto it = connections_->find(address);
        it != connections_->end() && it->second >= limits_.max_connections_per_client) {
      log_warn("refused a connection from " + address + ": already " + std::to_string(it->second) +
               " open");
      socket.close(ec);
      continue;
    }
    ConnectionSlot slot(connections_, std::move(address));
    if (tls_ != nullptr) {
      asio::co_spawn(io_, tls_session(std::move(socket), std::move(slot)), asio::detached);
    } else {
      asio::co_spawn(io_, plain_session(std::move(socket), std::move(slot)), asio::detached);
    }
  }
}

namespace {

// A lingering close (RFC 9112 §9.6): after a refusal the client may still be sending the body
// that was refused (a 413 is answered from the header). Closing a socket with unread data makes
// the kernel answer with a reset, and a client still writing may then lose the refusal before it
// reads it (hostile row 034, a 5 MiB body, came back as "Failed sending data to the peer" about
// once in twenty runs). So the sending side is shut and whatever still comes is read and dropped
// until the client closes, for at most kLinger; the connection slot is held meanwhile.
constexpr auto kLinger = std::chrono::seconds{2};

asio::awaitable<void> linger(beast::tcp_stream& stream) {
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  stream.expires_after(kLinger);
  std::vector<char> dropped(16 * 1024);
  while (!ec) {
    auto reading = stream.async_read_some(asio::buffer(dropped),
                                          asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(reading);
  }
}

}  // namespace

asio::awaitable<void> HttpServer::plain_session(tcp::socket socket, ConnectionSlot slot) {
  beast::tcp_stream stream(std::move(socket));
  PeerIdentity peer;
  peer.remote_address = slot.address();
  auto serving = serve(stream, peer);
  if (co_await std::move(serving)) {
    auto lingering = linger(stream);
    co_await std::move(lingering);
    co_return;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> HttpServer::tls_session(tcp::socket socket, ConnectionSlot slot) {
  SslStream stream(std::move(socket), *tls_);
  PeerIdentity peer;
  peer.tls = true;
  peer.remote_address = slot.address();

  boost::system::error_code ec;
  beast::get_lowest_layer(stream).expires_after(limits_.header_timeout);
  auto handshaking = stream.async_handshake(asio::ssl::stream_base::server,
                                            asio::redirect_error(asio::use_awaitable, ec));
  co_await std::move(handshaking);
  if (ec) {
    // Unknown CA, expired or missing client certificate, old protocol, slow or silent client.
    log_warn("TLS handshake with " + peer.remote_address + " failed: " + ec.message());
    co_return;
  }
  read_client_certificate(stream.native_handle(), peer);

  auto serving = serve(stream, peer);
  const bool refused = co_await std::move(serving);

  // close_notify, bounded: a peer that never answers it does not keep the connection slot.
  beast::get_lowest_layer(stream).expires_after(limits_.header_timeout);
  auto closing = stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  co_await std::move(closing);
  if (refused && beast::get_lowest_layer(stream).socket().is_open()) {
    auto lingering = linger(beast::get_lowest_layer(stream));
    co_await std::move(lingering);
  }
}

// One request read from a connection, waiting for its answer to be written.
struct HttpServer::PendingAnswer {
  PendingAnswer(InProgressToken token, BodyReservation body)
      : in_progress(std::move(token)), reservation(std::move(body)) {}
  std::optional<HttpResponse> response;  // set once the answer is ready
  bool keep_alive = false;               // the request asked to keep the connection open
  // The server was stopping when the answer became ready: the connection closes after it if
  // nothing more has been read. Decided then, not when the writer gets to it, so that an answer
  // made before stop() keeps its connection open as it would have without pipelining.
  bool stopping = false;
  InProgressToken in_progress;  // requests_in_progress() counts it until written
  BodyReservation reservation;  // the body's bytes stay counted until then too
};

// What a connection's reader, its writer and the handlers of its requests share; touched on the
// server's thread only. A handler may finish after its connection is gone, so it holds this and
// never the stream.
struct HttpServer::Pipeline {
  explicit Pipeline(const asio::any_io_executor& executor)
      : writer_wake(executor, asio::steady_timer::time_point::max()),
        reader_wake(executor, asio::steady_timer::time_point::max()),
        idle_timer(executor) {}

  std::deque<std::shared_ptr<PendingAnswer>> answers;  // in the order the requests came
  // Wake-ups, by cancelling a wait that never expires; whoever waits checks its condition first
  // (all on one thread, so no signal falls between the check and the wait).
  asio::steady_timer writer_wake;  // the first answer is ready, or reading has ended
  asio::steady_timer reader_wake;  // an answer was written, or writing has ended
  bool reading_done = false;       // no more requests are read
  bool writing_done = false;       // no more answers are written (the last one, or an error)
  bool writer_finished = false;    // the writer's coroutine has returned
  // The header timeout runs while the connection has nothing left to answer and waits for a
  // request's header: an idle connection, not one whose client waits for its answers.
  asio::steady_timer idle_timer;
  bool awaiting_header = false;
  bool idle_timed_out = false;
  std::uint64_t idle_generation = 0;
  // Shuts the socket's read side, which ends a pending read; empty once the connection is gone.
  std::function<void()> stop_reading;

  void arm_idle(Duration timeout, std::shared_ptr<Pipeline> self) {
    const std::uint64_t generation = ++idle_generation;
    idle_timer.expires_after(timeout);
    idle_timer.async_wait([self = std::move(self), generation](boost::system::error_code ec) {
      if (ec || generation != self->idle_generation || !self->awaiting_header) return;
      self->idle_timed_out = true;
      if (self->stop_reading) self->stop_reading();
    });
  }
  void disarm_idle() {
    ++idle_generation;
    idle_timer.cancel();
  }
  // `answer` is ready to be written; `stopping`: the server's stopping_ now (PendingAnswer).
  void ready(PendingAnswer& answer, HttpResponse response, bool stopping) {
    answer.response = std::move(response);
    answer.stopping = stopping;
    writer_wake.cancel();
  }
};

namespace {

asio::awaitable<void> wait_for_wake(asio::steady_timer& wake) {
  boost::system::error_code ec;  // operation_aborted: woken
  auto waiting = wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_await std::move(waiting);
}

}  // namespace

// The reader: reads requests while fewer than max_pipelined_requests await their answers,
// refuses what the transport limits forbid, and starts each request's handler (answer()).
template <typename Stream>
asio::awaitable<bool> HttpServer::serve(Stream& stream, const PeerIdentity& peer) {
  auto& lowest = beast::get_lowest_layer(stream);
  auto pipeline = std::make_shared<Pipeline>(io_.get_executor());
  pipeline->stop_reading = [&lowest] {
    boost::system::error_code ignored;
    lowest.socket().shutdown(tcp::socket::shutdown_receive, ignored);
  };
  auto writing = write_answers(stream, pipeline);
  asio::co_spawn(io_, std::move(writing), [pipeline](std::exception_ptr) {
    pipeline->writing_done = true;
    pipeline->writer_finished = true;
    pipeline->reader_wake.cancel();
  });
  const std::size_t window = std::max<std::size_t>(1, limits_.max_pipelined_requests);

  beast::flat_buffer buffer;
  buffer.reserve(kReadBufferBytes);
  bool refused = false;
  while (!pipeline->writing_done) {
    if (pipeline->answers.size() >= window) {
      auto waiting = wait_for_wake(pipeline->reader_wake);
      co_await std::move(waiting);
      continue;
    }
    boost::system::error_code ec;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser.body_limit(limits_.max_body_bytes);

    if (!header_from_buffer(buffer, parser, ec)) {
      pipeline->awaiting_header = true;
      if (pipeline->answers.empty()) pipeline->arm_idle(limits_.header_timeout, pipeline);
      lowest.expires_never();  // the idle timer above is this read's deadline
      auto reading_header = http::async_read_header(stream, buffer, parser,
                                                    asio::redirect_error(asio::use_awaitable, ec));
      co_await std::move(reading_header);
      pipeline->awaiting_header = false;
      pipeline->disarm_idle();
    }
    // Counted from its header until its answer is written (requests_in_progress()).
    InProgressToken in_progress(in_progress_);
    std::optional<HttpResponse> refusal;
    BodyReservation reservation;
    if (pipeline->idle_timed_out || pipeline->writing_done) {
      break;  // idle too long; or the writer has closed the connection (its last answer)
    } else if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
               ec == asio::error::connection_reset || ec == asio::error::eof ||
               ec == asio::ssl::error::stream_truncated) {
      break;
    } else if (ec == http::error::header_limit) {
      refusal = make_response(http::status::request_header_fields_too_large,
                              "request header too large\n", "text/plain");
    } else if (ec == http::error::body_limit) {
      // Beast checks Content-Length against the body limit while it reads the header.
      refusal = make_response(
          http::status::payload_too_large,
          "body larger than " + std::to_string(limits_.max_body_bytes) + " bytes\n", "text/plain");
    } else if (ec) {
      refusal = make_response(http::status::bad_request, "malformed HTTP request\n", "text/plain");
    } else {
      const auto length = parser.content_length();
      // A chunked body's size is unknown until its last chunk: it is counted as it arrives.
      const bool chunked = !length && parser.chunked();
      const std::size_t body_bytes = length ? static_cast<std::size_t>(*length) : 0;
      if (length && *length > limits_.max_body_bytes) {
        refusal =
            make_response(http::status::payload_too_large,
                          "body larger than " + std::to_string(limits_.max_body_bytes) + " bytes\n",
                          "text/plain");
      } else if (body_bytes > limits_.max_buffered_bytes ||
                 *buffered_ > limits_.max_buffered_bytes - body_bytes) {
        refusal = make_response(http::status::service_unavailable,
                                "server busy: too many request bodies in progress; try again\n",
                                "text/plain");
        refusal->set(http::field::retry_after, "1");
      } else {
        if (body_bytes > 0 || chunked) reservation = BodyReservation(buffered_, body_bytes);
        // The body's own deadline: a timer that shuts the read side, so the connection stays
        // open for the 408 (and for the answers before it). A body that came whole with its
        // header (the usual small message) is parsed from the buffer without waiting on the
        // socket: it needs no deadline.
        std::shared_ptr<asio::steady_timer> body_timer;
        std::shared_ptr<bool> timed_out;
        if (chunked || buffer.size() < body_bytes) {
          timed_out = std::make_shared<bool>(false);
          body_timer = std::make_shared<asio::steady_timer>(io_, limits_.body_timeout);
          body_timer->async_wait([pipeline, body_timer, timed_out](boost::system::error_code e) {
            if (e || *timed_out) return;
            *timed_out = true;
            if (pipeline->stop_reading) pipeline->stop_reading();
          });
        }
        bool over_cap = false;
        if (!chunked) {
          if (!body_from_buffer(buffer, parser, ec)) {
            auto reading_body = http::async_read(stream, buffer, parser,
                                                 asio::redirect_error(asio::use_awaitable, ec));
            co_await std::move(reading_body);
          }
        } else {
          // The body string's capacity is what it holds in memory.
          while (!ec && !parser.is_done()) {
            auto reading_some = http::async_read_some(
                stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
            co_await std::move(reading_some);
            if (!reservation.grow_to(parser.get().body().capacity(), limits_.max_buffered_bytes)) {
              over_cap = true;
              break;
            }
          }
        }
        const bool late = timed_out && *timed_out;
        if (body_timer) {
          *timed_out = true;  // a timer that fires from now on touches nothing
          body_timer->cancel();
        }
        if (pipeline->writing_done) {
          break;  // the writer closed the connection while the body came in: left unanswered
        } else if (late) {
          refusal = make_response(http::status::request_timeout, "body not received in time\n",
                                  "text/plain");
        } else if (over_cap) {
          refusal = make_response(http::status::service_unavailable,
                                  "server busy: too many request bodies in progress; try again\n",
                                  "text/plain");
          refusal->set(http::field::retry_after, "1");
        } else if (ec == http::error::body_limit) {
          refusal = make_response(
              http::status::payload_too_large,
              "body larger than " + std::to_string(limits_.max_body_bytes) + " bytes\n",
              "text/plain");
        } else if (is_framing_error(ec)) {
          refusal = make_response(http::status::bad_request, "malformed HTTP request body\n",
                                  "text/plain");
        } else if (ec) {
          break;
        } else if (const auto target = parser.get().target();
                   !target_is_text(std::string_view(target.data(), target.size()))) {
          refusal = make_response(http::status::bad_request,
                                  "the request target is not UTF-8 text without control "
                                  "characters\n",
                                  "text/plain");
        }
      }
    }

    auto pending = std::make_shared<PendingAnswer>(std::move(in_progress), std::move(reservation));
    pipeline->answers.push_back(pending);
    if (refusal) {  // answered at once, and the connection closes after it
      pipeline->ready(*pending, std::move(*refusal), stopping_);
      refused = true;
      break;
    }
    HttpRequest request = parser.release();
    pending->keep_alive = request.keep_alive();
    asio::co_spawn(io_, answer(pipeline, pending, std::move(request), peer), asio::detached);
    if (!pending->keep_alive) break;
  }

  // The writer answers what was read, then returns; the stream must outlive it. Nothing is being
  // read any more, so the writer's end leaves the read side open: a lingering close reads on
  // (a socket whose read side is shut answers further data with a reset).
  pipeline->reading_done = true;
  pipeline->stop_reading = nullptr;
  pipeline->disarm_idle();
  pipeline->writer_wake.cancel();
  while (!pipeline->writer_finished) {
    auto waiting = wait_for_wake(pipeline->reader_wake);
    co_await std::move(waiting);
  }
  co_return refused;
}

// The writer: writes each answer once it and every answer before it are ready. The last answer
// says "Connection: close" when its request asked for that, or when the server is stopping and
// nothing more has been read; after it, or after a failed write, nothing more is read.
template <typename Stream>
asio::awaitable<void> HttpServer::write_answers(Stream& stream, std::shared_ptr<Pipeline> p) {
  auto& lowest = beast::get_lowest_layer(stream);
  std::string batch;  // the wire form of the answers written together
  for (;;) {
    if (p->answers.empty() && p->reading_done) break;
    if (p->answers.empty() || !p->answers.front()->response) {
      auto waiting = wait_for_wake(p->writer_wake);
      co_await std::move(waiting);
      continue;
    }
    // The answers ready at the front of the queue, in order, up to the connection's last one.
    // An answer is the last when its request did not keep the connection alive, or when the
    // server was stopping as it was made and nothing more has been read.
    const auto is_last = [&](std::size_t i) {
      const PendingAnswer& a = *p->answers[i];
      return !a.keep_alive || (a.stopping && p->answers.size() == i + 1);
    };
    std::size_t taken = 0;
    bool last = false;
    boost::system::error_code ec;
    lowest.expires_after(limits_.body_timeout);
    // A large answer is sent on its own, from where it is; smaller ones are copied into `batch`.
    const bool alone = p->answers.front()->response->body().size() > kBatchedBodyBytes;
    if (alone) {
      last = is_last(0);
      p->answers.front()->response->keep_alive(!last);
      taken = 1;
    } else {
      batch.clear();
      while (!last && taken < p->answers.size() && batch.size() < kBatchBytes) {
        auto& response = p->answers[taken]->response;
        if (!response || response->body().size() > kBatchedBodyBytes) break;
        last = is_last(taken);
        response->keep_alive(!last);
        AppendingSink sink{batch};
        boost::system::error_code ignored;  // appending to a string does not fail
        http::write(sink, *response, ignored);
        ++taken;
      }
    }
    if (last) {
      p->writing_done = true;
      if (p->stop_reading) p->stop_reading();
    }
    if (alone) {
      auto writing = http::async_write(stream, *p->answers.front()->response,
                                       asio::redirect_error(asio::use_awaitable, ec));
      co_await std::move(writing);
    } else {
      auto writing = asio::async_write(stream, asio::buffer(batch),
                                       asio::redirect_error(asio::use_awaitable, ec));
      co_await std::move(writing);
    }
    for (std::size_t i = 0; i < taken; ++i) p->answers.pop_front();
    if (batch.capacity() > kKeptBatchBytes) std::string().swap(batch);
    p->reader_wake.cancel();
    if (ec || last) break;
    if (p->answers.empty() && p->awaiting_header) p->arm_idle(limits_.header_timeout, p);
  }
  p->writing_done = true;
  if (p->stop_reading) p->stop_reading();  // a reader still waiting for a request stops
}

// One request's handler, on the handler executor when there is one; its answer joins the
// connection's queue in its place.
asio::awaitable<void> HttpServer::answer(std::shared_ptr<Pipeline> pipeline,
                                         std::shared_ptr<PendingAnswer> pending,
                                         HttpRequest request, PeerIdentity peer) {
  const unsigned version = request.version();
  HttpResponse response;
  try {
    // The awaitable is a named local: GCC 12 destroys temporaries in a co_await statement twice.
    auto handling = handler_(std::move(request), std::move(peer));
    if (handler_executor_) {
      auto handled = asio::co_spawn(handler_executor_, std::move(handling), asio::use_awaitable);
      response = co_await std::move(handled);
    } else {
      response = co_await std::move(handling);
    }
  } catch (const std::exception&) {
    // What was thrown may quote the request: only the fact is logged.
    log_error("a request's handler failed; answered 500");
    response = make_response(http::status::internal_server_error, "internal error\n", "text/plain");
  }
  response.version(version);
  pipeline->ready(*pending, std::move(response), stopping_);
}

}  // namespace sektorbro
