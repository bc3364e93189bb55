#include "broker/delivery/beast_transport.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>

// <utility> before Asio's headers: Boost 1.74's coroutine support needs it under GCC 12 (as
// broker/http/asio.hpp, which this module cannot include: http is to its right).
#include <utility>
// clang-format off
#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
// clang-format on
#include <chrono>
#include <list>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace sektorbro {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
// Everything on the transport thread runs on its io_context's own executor type, not the
// polymorphic any_io_executor: that one's copies and queries were ~6 % of the thread's time.
using Executor = asio::io_context::executor_type;
template <typename T>
using Task = asio::awaitable<T, Executor>;
constexpr asio::use_awaitable_t<Executor> kUseTask;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Resolver = asio::ip::basic_resolver<tcp, Executor>;
using Clock = std::chrono::steady_clock;
using DoneFn = std::function<void(TransportResponse)>;

// A receipt is a few kilobytes; anything near this is not a receipt.
constexpr std::size_t kMaxResponseBytes = 1024 * 1024;
constexpr const char* kUserAgent = "sektorbro/0.1";
constexpr const char* kShuttingDown = "shutting down";
constexpr const char* kTooLarge = "response too large";
constexpr const char* kTimedOut = "Timeout was reached";
constexpr const char* kUnsupported = "Unsupported protocol";
constexpr const char* kMalformed = "Malformed URL";
// Idle connections kept per origin, and for how long: a receiver's kept-alive connection is
// worth a connect and a TLS handshake, not the receiver's memory for ever.
constexpr std::size_t kMaxIdlePerOrigin = 256;
constexpr auto kMaxIdleAge = std::chrono::seconds{118};

// Runs `done`; a throwing callback must not take down the transfers of every other endpoint.
void finish(DoneFn& done, TransportResponse response) {
  try {
    done(std::move(response));
  } catch (...) {
  }
}

TransportResponse failure(std::string text) { return TransportResponse{0, {}, std::move(text)}; }

// Where a URL points. Only http and https; no user info (a delivery URL carries no password).
struct Target {
  bool tls = false;
  std::string host;  // without the brackets of an IPv6 literal
  std::string port;
  std::string host_header;
  std::string path;  // the request target: path and query
  std::string origin() const { return (tls ? "https://" : "http://") + host + ":" + port; }
};

// Empty when `url` is not one: `why` then says whether its scheme or its form is wrong.
std::optional<Target> parse_target(std::string_view url, const char*& why) {
  Target t;
  why = kMalformed;
  if (url.rfind("http://", 0) == 0) {
    url.remove_prefix(7);
  } else if (url.rfind("https://", 0) == 0) {
    t.tls = true;
    url.remove_prefix(8);
  } else {
    why = kUnsupported;
    return std::nullopt;
  }
  const std::size_t slash = url.find_first_of("/?#");
  std::string_view authority = url.substr(0, slash);
  std::string_view rest = slash == std::string_view::npos ? std::string_view() : url.substr(slash);
  if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos)
    rest = rest.substr(0, hash);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  t.host_header = std::string(authority);
  std::string_view port;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    t.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    t.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (t.host.empty()) return std::nullopt;
  for (const char c : port)
    if (c < '0' || c > '9') return std::nullopt;
  t.port = port.empty() ? (t.tls ? "443" : "80") : std::string(port);
  t.path = rest.empty() || rest.front() == '?' ? "/" + std::string(rest) : std::string(rest);
  return t;
}

// A connection to one origin, plain or TLS, with what was read past the last answer.
struct Connection {
  Connection(asio::io_context& io, ssl::context* tls_context) {
    if (tls_context != nullptr)
      tls.emplace(io, *tls_context);
    else
      plain.emplace(io.get_executor());
  }
  std::optional<Socket> plain;
  std::optional<ssl::stream<Socket>> tls;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};
  Socket& lowest() { return plain ? *plain : tls->next_layer(); }
  // Runs `op` on the stream the HTTP goes over.
  template <typename Op>
  auto over(Op&& op) {
    return tls ? op(*tls) : op(*plain);
  }
};

// A transfer in flight. Its deadline is kept by one timer for all transfers
// (Impl::watch_deadlines), which closes the transfer's connection, or cancels its name lookup,
// when the deadline passes: not a timer armed and cancelled per read and write (Beast's
// tcp_stream), each of which moved the reactor's timerfd.
struct Transfer {
  OutboundRequest request;
  DoneFn done;
  Clock::time_point deadline{};
  bool timed_out = false;
  Connection* connection = nullptr;  // while it has one
  Resolver* resolver = nullptr;      // while it resolves
};

}  // namespace

struct BeastTransport::Impl {
  asio::io_context io{1};
  asio::executor_work_guard<Executor> work{io.get_executor()};
  std::unique_ptr<ssl::context> tls_context;
  std::string tls_error;  // why tls_context could not be made (https:// fails with it)
  std::thread thread;
  std::mutex mu;
  bool stopping = false;  // guarded by mu

  // Transport thread only.
  bool closing = false;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle;
  std::list<Transfer*> running;
  // Ends transfers past their deadline (Transfer), ticking while any runs; and closes idle
  // connections past their age, ticking while any is kept.
  using Timer = asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, Executor>;
  Timer deadlines{io.get_executor()};
  Timer ages{io.get_executor()};
  bool deadlines_armed = false;
  bool ages_armed = false;

  void start(std::shared_ptr<Transfer> t);
  Task<void> run(std::shared_ptr<Transfer> t);
  Task<TransportResponse> exchange(Transfer& t, const Target& target);
  Task<std::unique_ptr<Connection>> connect(Transfer& t, const Target& target,
                                            beast::error_code& ec);
  std::unique_ptr<Connection> take_idle(const std::string& origin);
  void keep(const std::string& origin, std::unique_ptr<Connection> c);
  void watch_deadlines();
  void watch_ages();
  void shut_down();
};

namespace {

std::unique_ptr<ssl::context> make_context(const TlsClientOptions& tls, std::string& error) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  beast::error_code ec;
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_verify_mode(ssl::verify_peer, ec);
  if (!ec) {
    if (tls.ca_file.empty())
      ctx->set_default_verify_paths(ec);
    else
      ctx->load_verify_file(tls.ca_file, ec);  // then only these CAs
    if (ec)
      error = tls.ca_file.empty() ? "outbound TLS: cannot load the system's trusted CAs"
                                  : "outbound TLS: cannot read the CAs in " + tls.ca_file;
  }
  if (!ec && !tls.certificate_file.empty()) {
    ctx->use_certificate_chain_file(tls.certificate_file, ec);
    if (ec) {
      error = "outbound TLS: cannot read the certificate in " + tls.certificate_file;
    } else {
      ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
      if (!ec && SSL_CTX_check_private_key(ctx->native_handle()) != 1)
        ec = asio::error::invalid_argument;
      if (ec)
        error = "outbound TLS: cannot read the key in " + tls.key_file +
                ", or it is not the certificate's";
    }
  }
  if (ec) return nullptr;
  return ctx;
}

// What an error of a transfer is called. Only the kind of failure: never content.
std::string describe(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return kTimedOut;
  if (ec == asio::error::connection_refused) return "Couldn't connect to server";
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again)
    return "Couldn't resolve host name";
  if (ec.category() == asio::error::get_ssl_category() ||
      ec.category() == asio::ssl::error::get_stream_category())
    return "TLS failed: " + ec.message();
  return ec.message();
}

// Nothing of an answer came before the peer closed a reused connection: it was closed while
// idle, and the request may go again on a new one.
bool closed_while_idle(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

}  // namespace

std::unique_ptr<Connection> BeastTransport::Impl::take_idle(const std::string& origin) {
  auto it = idle.find(origin);
  if (it == idle.end()) return nullptr;
  auto& kept = it->second;
  const auto now = Clock::now();
  while (!kept.empty()) {
    std::unique_ptr<Connection> c = std::move(kept.back());
    kept.pop_back();
    if (now - c->idle_since < kMaxIdleAge) return c;
  }
  return nullptr;
}

void BeastTransport::Impl::keep(const std::string& origin, std::unique_ptr<Connection> c) {
  auto& kept = idle[origin];
  if (kept.size() >= kMaxIdlePerOrigin) return;  // closed as it goes
  c->idle_since = Clock::now();
  kept.push_back(std::move(c));
  watch_ages();
}

// A transfer's timeout is kept to within a tick. Idle connections past their age are closed
// (every tenth of their age), so a receiver that takes no deliveries any more is not held open.
constexpr auto kDeadlineTick = std::chrono::milliseconds{50};
constexpr auto kAgeTick = kMaxIdleAge / 10;

void BeastTransport::Impl::watch_deadlines() {
  if (deadlines_armed || closing || running.empty()) return;
  deadlines_armed = true;
  deadlines.expires_after(kDeadlineTick);
  deadlines.async_wait([this](const beast::error_code& ec) {
    deadlines_armed = false;
    if (ec || closing) return;
    const auto now = Clock::now();
    for (Transfer* t : running) {
      if (t->timed_out || now < t->deadline) continue;
      t->timed_out = true;
      beast::error_code ignored;
      if (t->resolver != nullptr) t->resolver->cancel();
      if (t->connection != nullptr) t->connection->lowest().close(ignored);
    }
    watch_deadlines();
  });
}

void BeastTransport::Impl::watch_ages() {
  if (ages_armed || closing || idle.empty()) return;
  ages_armed = true;
  ages.expires_after(kAgeTick);
  ages.async_wait([this](const beast::error_code& ec) {
    ages_armed = false;
    if (ec || closing) return;
    const auto now = Clock::now();
    for (auto it = idle.begin(); it != idle.end();) {
      std::erase_if(it->second, [&](const auto& c) { return now - c->idle_since >= kMaxIdleAge; });
      it = it->second.empty() ? idle.erase(it) : std::next(it);
    }
    watch_ages();
  });
}

Task<std::unique_ptr<Connection>> BeastTransport::Impl::connect(Transfer& t, const Target& target,
                                                                beast::error_code& ec) {
  auto c = std::make_unique<Connection>(io, target.tls ? tls_context.get() : nullptr);
  Resolver resolver(io.get_executor());
  t.resolver = &resolver;
  auto endpoints =
      co_await resolver.async_resolve(target.host, target.port, asio::redirect_error(kUseTask, ec));
  t.resolver = nullptr;
  if (ec) co_return nullptr;
  t.connection = c.get();
  co_await asio::async_connect(c->lowest(), endpoints, asio::redirect_error(kUseTask, ec));
  if (ec) co_return nullptr;
  c->lowest().set_option(tcp::no_delay(true), ec);
  ec = {};
  if (c->tls) {
    SSL* ssl = c->tls->native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    boost::system::error_code not_ip;
    (void)asio::ip::make_address(target.host, not_ip);
    if (not_ip) {
      SSL_set_tlsext_host_name(ssl, target.host.c_str());  // SNI, for names only
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      X509_VERIFY_PARAM_set1_host(param, target.host.c_str(), target.host.size());
    } else {
      X509_VERIFY_PARAM_set1_ip_asc(param, target.host.c_str());
    }
    co_await c->tls->async_handshake(ssl::stream_base::client, asio::redirect_error(kUseTask, ec));
    if (ec) co_return nullptr;
  }
  co_return c;
}

Task<TransportResponse> BeastTransport::Impl::exchange(Transfer& t, const Target& target) {
  http::request<http::string_body> request{http::verb::post, target.path, 11};
  request.set(http::field::host, target.host_header);
  request.set(http::field::user_agent, kUserAgent);
  request.set(http::field::content_type, t.request.content_type);
  request.body() = std::move(t.request.body);
  request.prepare_payload();

  const std::string origin = target.origin();
  beast::error_code ec;
  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<Connection> c = round == 0 ? take_idle(origin) : nullptr;
    const bool reused = c != nullptr;
    if (!c) {
      auto connecting = connect(t, target, ec);
      c = co_await std::move(connecting);
    }
    t.connection = c.get();
    if (c) {
      co_await c->over([&](auto& stream) {
        return http::async_write(stream, request, asio::redirect_error(kUseTask, ec));
      });
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    if (c && !ec) {
      // The head first: Boost 1.74's parser, reading eagerly as async_read does, lets a
      // Content-Length over the body limit through; so the length is checked here.
      co_await c->over([&](auto& stream) {
        return http::async_read_header(stream, c->buffer, parser,
                                       asio::redirect_error(kUseTask, ec));
      });
      if (!ec && parser.content_length().value_or(0) > kMaxResponseBytes)
        ec = http::error::body_limit;
    }
    if (c && !ec && !parser.is_done()) {
      co_await c->over([&](auto& stream) {
        return http::async_read(stream, c->buffer, parser, asio::redirect_error(kUseTask, ec));
      });
    }
    t.connection = nullptr;
    if (closing) co_return failure(kShuttingDown);
    if (t.timed_out) co_return failure(kTimedOut);
    if (ec && reused && !parser.got_some() && closed_while_idle(ec)) continue;
    if (ec == http::error::body_limit && parser.is_header_done()) {
      // The peer answered, so its status stands; the body is dropped rather than cut short.
      co_return TransportResponse{static_cast<int>(parser.get().result_int()), {}, kTooLarge};
    }
    if (ec) co_return failure(describe(ec));
    auto response = parser.release();
    if (response.keep_alive()) keep(origin, std::move(c));
    co_return TransportResponse{
        static_cast<int>(response.result_int()), std::move(response.body()), {}};
  }
  co_return failure(describe(ec));
}

Task<void> BeastTransport::Impl::run(std::shared_ptr<Transfer> t) {
  TransportResponse response;
  const char* why = nullptr;
  const auto target = parse_target(t->request.url, why);
  if (!target) {
    response = failure(why);
  } else if (target->tls && !tls_context) {
    response = failure(tls_error);
  } else {
    const auto timeout = std::max<Duration>(t->request.timeout, std::chrono::milliseconds{1});
    t->deadline = Clock::now() + timeout;
    running.push_front(t.get());
    const auto mine = running.begin();
    watch_deadlines();
    auto exchanging = exchange(*t, *target);
    response = co_await std::move(exchanging);
    running.erase(mine);
  }
  finish(t->done, std::move(response));
}

void BeastTransport::Impl::start(std::shared_ptr<Transfer> t) {
  if (closing) return finish(t->done, failure(kShuttingDown));
  asio::co_spawn(io.get_executor(), run(std::move(t)), asio::detached);
}

// On the transport thread: every connection closes, so every transfer's coroutine ends (with
// "shutting down"); io.run() returns once they have.
void BeastTransport::Impl::shut_down() {
  closing = true;
  deadlines.cancel();
  ages.cancel();
  idle.clear();
  for (Transfer* t : running) {
    beast::error_code ignored;
    if (t->resolver != nullptr) t->resolver->cancel();
    if (t->connection != nullptr) t->connection->lowest().close(ignored);
  }
  work.reset();
}

Result<void> check_tls_client(const TlsClientOptions& tls) {
  std::string error;
  if (!make_context(tls, error)) return make_error(Errc::kConfig, error);
  return {};
}

BeastTransport::BeastTransport(TlsClientOptions tls) : impl_(std::make_unique<Impl>()) {
  impl_->tls_context = make_context(tls, impl_->tls_error);
  impl_->thread = std::thread([impl = impl_.get()] {
    pthread_setname_np(pthread_self(), "sb-post");  // for profiles and top -H
    for (;;) {
      try {
        impl->io.run();
        return;
      } catch (...) {  // a transfer's failure is its own; the others go on
      }
    }
  });
}

BeastTransport::~BeastTransport() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  asio::post(impl_->io, [impl = impl_.get()] { impl->shut_down(); });
  impl_->thread.join();
}

// Once the destructor has begun (a `done` callback posting again during shutdown), the request
// fails at once, on the calling thread.
void BeastTransport::post(OutboundRequest request, std::function<void(TransportResponse)> done) {
  auto t = std::make_shared<Transfer>();
  t->request = std::move(request);
  t->done = std::move(done);
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->stopping) {
      asio::post(impl_->io, [impl = impl_.get(), t]() mutable { impl->start(std::move(t)); });
      return;
    }
  }
  finish(t->done, failure(kShuttingDown));
}

}  // namespace sektorbro
