// HTTP/1.1 pipelining (RFC 9112 §9.3.2) over real sockets: requests read ahead are handled side
// by side, answered in the order they came, never more than HttpLimits::max_pipelined_requests
// at once; a refusal, "Connection: close" and a stopping server end the pipeline cleanly.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "broker/http/http_server.hpp"
#include "broker/http/tests/test_server.hpp"

namespace sektorbro {
namespace {

using testing::ClientResult;
using testing::RawClient;
using testing::TestPki;

constexpr auto kBound = std::chrono::seconds{10};

// A handler that answers each request with its target, once the test releases that target:
// the test decides the order in which the handlers finish. A target that starts with "/large"
// gets kLargeAnswer more bytes after it, more than the server copies into a batch of answers.
constexpr std::size_t kLargeAnswer = 100'000;
class GatedHandlers {
 public:
  explicit GatedHandlers(asio::io_context& io) : io_(io) {}

  asio::awaitable<HttpResponse> handle(std::string target) {
    {
      std::lock_guard lock(mu_);
      started_.push_back(target);
    }
    changed_.notify_all();
    if (!released_.contains(target)) {  // released_ and gates_: the server's thread only
      auto gate = std::make_shared<asio::steady_timer>(io_, asio::steady_timer::time_point::max());
      gates_[target] = gate;
      boost::system::error_code ec;
      auto waiting = gate->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      co_await std::move(waiting);
    }
    const std::string extra(target.rfind("/large", 0) == 0 ? kLargeAnswer : 0, 'x');
    co_return make_response(http::status::ok, target + extra, "text/plain");
  }

  void release(const std::string& target) {
    asio::post(io_, [this, target] {
      released_.insert(target);
      if (const auto it = gates_.find(target); it != gates_.end()) it->second->cancel();
    });
  }

  // Waits (bounded) until `n` handlers have started; the targets started so far.
  std::vector<std::string> wait_started(std::size_t n) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, kBound, [&] { return started_.size() >= n; });
    return started_;
  }

 private:
  asio::io_context& io_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::string> started_;
  std::set<std::string> released_;
  std::map<std::string, std::shared_ptr<asio::steady_timer>> gates_;
};

// A fixture's HttpServer on a thread of its own (TLS with the test PKI's broker certificate,
// asking for a client certificate, when `tls`), stopped and joined by stop_server().
class ServerOnThread {
 protected:
  void start_server(const HttpLimits& limits, HttpHandler handler, bool tls) {
    server_ = std::make_unique<HttpServer>(io_, limits, std::move(handler));
    TlsServerOptions options;
    if (tls) {
      const TestPki& pki = TestPki::get();
      options.certificate_file = pki.path("broker.pem");
      options.key_file = pki.path("broker.key");
      options.client_ca_file = pki.path("ca.pem");
    }
    auto port =
        tls ? server_->listen_tls("127.0.0.1", 0, options) : server_->listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.error().detail;
    port_ = *port;
    thread_ = std::thread([this] { io_.run(); });
  }

  void stop_server() {
    if (thread_.joinable()) {
      asio::post(io_, [this] {
        server_->stop();
        io_.stop();
      });
      thread_.join();
    }
  }

  asio::io_context io_{1};
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  unsigned short port_ = 0;
};

// A server whose handler is a GatedHandlers.
class Pipelined : public ::testing::Test, protected ServerOnThread {
 protected:
  void start(std::size_t window, bool tls = false) {
    HttpLimits limits;
    limits.max_pipelined_requests = window;
    start_server(
        limits,
        [this](HttpRequest request, PeerIdentity) {
          return handlers_.handle(std::string(request.target()));
        },
        tls);
  }

  void TearDown() override { stop_server(); }

  static std::string post(const std::string& target, const std::string& body, bool close = false) {
    return "POST " + target + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n" +
           (close ? "Connection: close\r\n" : "") +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  GatedHandlers handlers_{io_};
};

TEST_F(Pipelined, RequestsReadAheadAreHandledSideBySideAndAnsweredInTheOrderTheyCame) {
  start(8);
  RawClient client(port_);
  ASSERT_TRUE(client.send(post("/1", "one") + post("/2", "two") + post("/3", "three")));
  // All three reach the handler before any is answered: they are handled side by side.
  EXPECT_EQ(handlers_.wait_started(3), (std::vector<std::string>{"/1", "/2", "/3"}));
  // Finished last to first, answered first to last.
  for (const char* target : {"/3", "/2", "/1"}) handlers_.release(target);
  for (const char* target : {"/1", "/2", "/3"}) {
    const ClientResult answer = client.read_response();
    EXPECT_EQ(answer.status, 200) << answer.error;
    EXPECT_EQ(answer.body, target);
  }
  // The connection stays open for more.
  handlers_.release("/4");
  const ClientResult more = client.get(true, "/4");
  EXPECT_EQ(more.status, 200) << more.error;
  EXPECT_EQ(more.body, "/4");
}

// Answers ready together leave in one write, a large one from where it is: whatever the mix,
// each comes whole and in its place, and "Connection: close" on the last still ends it there.
TEST_F(Pipelined, SmallAnswersReadyTogetherAndALargeOneBetweenThemComeWholeAndInOrder) {
  start(8);
  RawClient client(port_);
  const std::vector<std::string> targets = {"/1", "/2", "/large-1", "/3", "/4", "/large-2", "/5"};
  std::string requests;
  for (const auto& target : targets) requests += post(target, "b", target == targets.back());
  ASSERT_TRUE(client.send(requests));
  EXPECT_EQ(handlers_.wait_started(targets.size()), targets);
  for (auto it = targets.rbegin(); it != targets.rend(); ++it) handlers_.release(*it);
  for (const auto& target : targets) {
    const ClientResult answer = client.read_response();
    EXPECT_EQ(answer.status, 200) << answer.error;
    const std::size_t extra = target.rfind("/large", 0) == 0 ? kLargeAnswer : 0;
    EXPECT_EQ(answer.body, target + std::string(extra, 'x')) << target;
  }
  EXPECT_TRUE(client.closed_by_server());
}

TEST_F(Pipelined, NoMoreRequestsAreReadAheadThanTheWindow) {
  start(2);
  RawClient client(port_);
  ASSERT_TRUE(client.send(post("/1", "a") + post("/2", "b") + post("/3", "c") + post("/4", "d")));
  EXPECT_EQ(handlers_.wait_started(2).size(), 2u);
  handlers_.release("/1");
  const ClientResult first = client.read_response();
  EXPECT_EQ(first.body, "/1") << first.error;
  // One answer written makes room for one more request, and only one.
  EXPECT_EQ(handlers_.wait_started(3), (std::vector<std::string>{"/1", "/2", "/3"}));
  for (const char* target : {"/2", "/3", "/4"}) handlers_.release(target);
  for (const char* target : {"/2", "/3", "/4"}) EXPECT_EQ(client.read_response().body, target);
}

TEST_F(Pipelined, AWindowOfOneReadsTheNextRequestOnlyOnceTheOneBeforeIsAnswered) {
  start(1);
  RawClient client(port_);
  ASSERT_TRUE(client.send(post("/1", "a") + post("/2", "b")));
  EXPECT_EQ(handlers_.wait_started(1).size(), 1u);
  // A whole exchange on another connection, while /2 waits in the first one's buffer unread.
  handlers_.release("/probe");
  RawClient other(port_);
  EXPECT_EQ(other.get(true, "/probe").body, "/probe");
  EXPECT_EQ(handlers_.wait_started(2), (std::vector<std::string>{"/1", "/probe"}));
  handlers_.release("/2");  // ready at once, but not read until /1 is answered
  handlers_.release("/1");
  EXPECT_EQ(client.read_response().body, "/1");
  EXPECT_EQ(handlers_.wait_started(3), (std::vector<std::string>{"/1", "/probe", "/2"}));
  EXPECT_EQ(client.read_response().body, "/2");
}

TEST_F(Pipelined, AMalformedRequestIsRefusedAfterTheAnswersBeforeItAndTheConnectionCloses) {
  start(8);
  RawClient client(port_);
  ASSERT_TRUE(client.send(post("/1", "a") + "NOT HTTP AT ALL\r\n\r\n" + post("/3", "c")));
  EXPECT_EQ(handlers_.wait_started(1).size(), 1u);
  handlers_.release("/1");
  const ClientResult first = client.read_response();
  EXPECT_EQ(first.status, 200) << first.error;
  EXPECT_EQ(first.body, "/1");
  EXPECT_EQ(client.read_response().status, 400);
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_EQ(handlers_.wait_started(1).size(), 1u);  // the request after it was never handled
}

TEST_F(Pipelined, ConnectionCloseIsTheLastRequestRead) {
  start(8);
  RawClient client(port_);
  ASSERT_TRUE(client.send(post("/1", "a") + post("/2", "b", true) + post("/3", "c")));
  EXPECT_EQ(handlers_.wait_started(2).size(), 2u);
  handlers_.release("/1");
  handlers_.release("/2");
  EXPECT_EQ(client.read_response().body, "/1");
  EXPECT_EQ(client.read_response().body, "/2");
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_EQ(handlers_.wait_started(2).size(), 2u);
}

// At shutdown every request already read is answered; the last answer closes the connection.
TEST_F(Pipelined, AStoppingServerAnswersWhatItReadAndThenCloses) {
  start(8);
  RawClient client(port_);
  ASSERT_TRUE(client.send(post("/1", "a") + post("/2", "b")));
  EXPECT_EQ(handlers_.wait_started(2).size(), 2u);
  asio::post(io_, [this] { server_->stop(); });
  handlers_.release("/2");
  handlers_.release("/1");
  EXPECT_EQ(client.read_response().body, "/1");
  EXPECT_EQ(client.read_response().body, "/2");
  EXPECT_TRUE(client.closed_by_server());
}

// Over TLS the reader and the writer share one TLS stream: three pipelined requests, finished
// in reverse, come back in order and intact.
TEST_F(Pipelined, OverTlsAnswersComeBackInOrder) {
  start(8, true);
  const TestPki& pki = TestPki::get();

  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(pki.path("ca.pem"));
  ctx.set_verify_mode(asio::ssl::verify_peer);
  ctx.use_certificate_chain_file(pki.path("jc-aarhus.pem"));
  ctx.use_private_key_file(pki.path("jc-aarhus.key"), asio::ssl::context::pem);
  asio::ssl::stream<tcp::socket> stream(io, ctx);
  stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  timeval timeout{10, 0};  // bounded reads: a broken server fails the test, not CI's clock
  ::setsockopt(stream.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout,
               sizeof timeout);
  stream.handshake(asio::ssl::stream_base::client);
  const std::string big(20000, 'x');  // more than one TLS record, and more than one read
  asio::write(stream, asio::buffer(post("/1", big) + post("/2", "b") + post("/3", big)));
  EXPECT_EQ(handlers_.wait_started(3).size(), 3u);
  for (const char* target : {"/3", "/2", "/1"}) handlers_.release(target);
  beast::flat_buffer buffer;
  for (const char* target : {"/1", "/2", "/3"}) {
    HttpResponse response;
    boost::system::error_code ec;
    http::read(stream, buffer, response, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), target);
  }
}

// --- random pipelines: whatever a client sends, answers stay in order and nothing is kept ---

// One request of a random pipeline and what the server must do with it.
struct Step {
  std::string bytes;
  int status = 200;     // the answer it gets
  std::string body;     // for a 200: the target, which the handler echoes
  bool closes = false;  // the connection closes after its answer
};

// A request the model knows the answer to. Kinds: a plain POST, a chunked POST, "Connection:
// close", a Content-Length over the body limit (413), a line that is not HTTP (400), a chunked
// body whose framing is broken (400). `target` carries how many turns of the event loop its
// handler takes, so that later requests often finish first.
Step random_step(std::mt19937& rng, const std::string& target, std::size_t body_limit) {
  const auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::string body(static_cast<std::size_t>(pick(static_cast<int>(body_limit) + 1)), 'b');
  const std::string head = "POST " + target + " HTTP/1.1\r\nHost: localhost\r\n";
  switch (pick(10)) {
    case 0: {  // chunked, in chunks of 1 to 700 bytes
      std::string chunks;
      for (std::size_t at = 0; at < body.size();) {
        const std::size_t n = std::min(body.size() - at, 1 + static_cast<std::size_t>(pick(700)));
        char size[16];
        std::snprintf(size, sizeof size, "%zx", n);
        chunks += std::string(size) + "\r\n" + body.substr(at, n) + "\r\n";
        at += n;
      }
      return {head + "Transfer-Encoding: chunked\r\n\r\n" + chunks + "0\r\n\r\n", 200, target};
    }
    case 1:
      return {head + "Connection: close\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\n\r\n" + body,
              200, target, true};
    case 2:
      return {head + "Content-Length: " + std::to_string(body_limit + 1 + pick(100)) + "\r\n\r\n",
              413,
              {},
              true};
    case 3:
      return {"NOT HTTP " + target + "\r\n\r\n", 400, {}, true};
    case 4:
      return {head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400, {}, true};
    default:
      return {head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body, 200,
              target};
  }
}

// A client of the TLS listener with RawClient's three calls: the same pipelines, through one TLS
// stream that the server's reader and writer share. Reads are bounded by a 10 s timeout.
class TlsPipelineClient {
 public:
  explicit TlsPipelineClient(unsigned short port) : ctx_(context()), stream_(io_, ctx_) {
    stream_.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval timeout{10, 0};
    ::setsockopt(stream_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout,
                 sizeof timeout);
    stream_.handshake(asio::ssl::stream_base::client);
  }

  bool send(const std::string& bytes) {
    boost::system::error_code ec;
    asio::write(stream_, asio::buffer(bytes), ec);
    return !ec;
  }

  ClientResult read_response() {
    HttpResponse response;
    boost::system::error_code ec;
    http::read(stream_, buffer_, response, ec);
    if (ec) return {0, {}, ec.message()};
    return {static_cast<int>(response.result_int()), response.body(), {}};
  }

  bool closed_by_server() {
    char bytes[512];
    boost::system::error_code ec;
    while (!ec) stream_.read_some(asio::buffer(bytes), ec);
    return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
           ec == asio::error::connection_reset;
  }

 private:
  // Set up before the stream: a stream takes its settings from the context when it is made.
  static asio::ssl::context context() {
    const TestPki& pki = TestPki::get();
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.load_verify_file(pki.path("ca.pem"));
    ctx.set_verify_mode(asio::ssl::verify_peer);
    ctx.use_certificate_chain_file(pki.path("jc-aarhus.pem"));
    ctx.use_private_key_file(pki.path("jc-aarhus.key"), asio::ssl::context::pem);
    return ctx;
  }

  asio::io_context io_;
  asio::ssl::context ctx_;
  asio::ssl::stream<tcp::socket> stream_;
  beast::flat_buffer buffer_;
};

// The parameters: the window under test, and whether the connections are TLS.
class RandomPipelines : public ::testing::TestWithParam<std::tuple<std::size_t, bool>>,
                        protected ServerOnThread {
 protected:
  static constexpr std::size_t kBodyLimit = 2000;

  void start(std::size_t window, bool tls) {
    HttpLimits limits;
    limits.max_pipelined_requests = window;
    limits.max_body_bytes = kBodyLimit;
    start_server(
        limits,
        [this](HttpRequest request, PeerIdentity) { return handle(std::string(request.target())); },
        tls);
  }

  void TearDown() override { stop_server(); }

  // Echoes the target after as many turns of the event loop as its last number says.
  asio::awaitable<HttpResponse> handle(std::string target) {
    {
      std::lock_guard lock(mu_);
      handled_.insert(target);
    }
    const int turns = std::stoi(target.substr(target.rfind('-') + 1));
    for (int i = 0; i < turns; ++i) co_await asio::post(io_, asio::use_awaitable);
    const std::string extra(target.rfind("/large", 0) == 0 ? kLargeAnswer : 0, 'x');
    co_return make_response(http::status::ok, target + extra, "text/plain");
  }

  bool handled(const std::string& target) {
    std::lock_guard lock(mu_);
    return handled_.contains(target);
  }

  // Waits (bounded) until the server holds no request and no body bytes: every request it read
  // was answered and released, on whatever path its connection ended.
  bool server_holds_nothing() {
    const auto deadline = std::chrono::steady_clock::now() + kBound;
    while (std::chrono::steady_clock::now() < deadline) {
      std::promise<bool> empty;
      asio::post(io_, [&] {
        empty.set_value(server_->requests_in_progress() == 0 && server_->buffered_bytes() == 0);
      });
      if (empty.get_future().get()) return true;  // one turn of the server's loop per check
    }
    return false;
  }

  // One seeded run of 50 connections (see the test).
  template <typename Client>
  void run(std::size_t window) {
    std::mt19937 rng(static_cast<unsigned>(window) * 7919u);
    for (int c = 0; c < 50; ++c) {
      const int n = 1 + static_cast<int>(rng() % 8u);
      const std::string prefix = "/c" + std::to_string(c) + "r";
      std::vector<Step> steps;
      std::string bytes;
      std::string after_close;  // a request sent behind the closing one
      for (int i = 0; i < n; ++i) {
        Step step = random_step(rng, prefix + std::to_string(i) + "-" + std::to_string(rng() % 6u),
                                kBodyLimit);
        bytes += step.bytes;
        const bool closes = step.closes;
        steps.push_back(std::move(step));
        if (closes) {
          after_close = prefix + "late-0";
          bytes += "POST " + after_close + " HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
          break;
        }
      }
      SCOPED_TRACE("connection " + std::to_string(c));
      Client client(port_);
      for (std::size_t at = 0; at < bytes.size();) {  // in pieces of 1 byte to 3 KB
        const std::size_t piece = std::min(bytes.size() - at, 1 + std::size_t{rng() % 3000u});
        if (!client.send(bytes.substr(at, piece))) break;  // the server closed: the rest is moot
        at += piece;
      }
      for (const Step& step : steps) {
        const ClientResult answer = client.read_response();
        ASSERT_EQ(answer.status, step.status) << answer.error << "\n" << step.bytes.substr(0, 120);
        if (step.status == 200) {
          EXPECT_EQ(answer.body, step.body);
        }
      }
      if (!after_close.empty()) {
        EXPECT_TRUE(client.closed_by_server());
        EXPECT_FALSE(handled(after_close));
      }
    }
    EXPECT_TRUE(server_holds_nothing());
  }

  std::mutex mu_;
  std::set<std::string> handled_;
};

// Seeded, so a failure repeats: 50 connections per window, plain and TLS, each a pipeline of 1–8
// random requests sent in random pieces. Each gets exactly the answers the model says, in the order
// sent; the connection closes after a refusal or "Connection: close", and a request sent behind
// that is never handled; afterwards the server holds no request and no body bytes.
TEST_P(RandomPipelines, EveryConnectionGetsItsAnswersInOrderAndLeavesNothingHeld) {
  const auto [window, tls] = GetParam();
  start(window, tls);
  if (tls)
    run<TlsPipelineClient>(window);
  else
    run<RawClient>(window);
}

INSTANTIATE_TEST_SUITE_P(Windows, RandomPipelines,
                         ::testing::Combine(::testing::Values(std::size_t{1}, std::size_t{2},
                                                              std::size_t{3}, std::size_t{8}),
                                            ::testing::Bool()));

}  // namespace
}  // namespace sektorbro
