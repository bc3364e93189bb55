#include "broker/delivery/beast_transport.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "tests/support/http_receiver.hpp"

namespace sektorbro {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::HttpReceiver;
using testing::ReceivedRequest;
using testing::ReplyPlan;

constexpr milliseconds kWait{10'000};  // upper bound for anything that should take milliseconds

// Collects `done` results by name; tests wait on it with a bounded timeout.
class Outcomes {
 public:
  std::function<void(TransportResponse)> done(std::string name) {
    return [this, name = std::move(name)](TransportResponse r) {
      // Notified under the lock: a waiter may destroy this object as soon as it wakes.
      std::lock_guard lock(mu_);
      order_.push_back(name);
      results_.emplace_back(name, std::move(r));
      cv_.notify_all();
    };
  }

  std::optional<TransportResponse> wait_for(const std::string& name, milliseconds timeout) {
    std::unique_lock lock(mu_);
    std::optional<TransportResponse> found;
    cv_.wait_for(lock, timeout, [&] {
      for (const auto& [n, r] : results_)
        if (n == name) found = r;
      return found.has_value();
    });
    return found;
  }

  bool wait_count(std::size_t n, milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return results_.size() >= n; });
  }

  bool has(const std::string& name) {
    std::lock_guard lock(mu_);
    for (const auto& [n, r] : results_)
      if (n == name) return true;
    return false;
  }

  std::vector<std::string> order() {
    std::lock_guard lock(mu_);
    return order_;
  }

  std::size_t count(const std::string& name) {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(std::count(order_.begin(), order_.end(), name));
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> order_;
  std::vector<std::pair<std::string, TransportResponse>> results_;
};

OutboundRequest request(const std::string& url, std::string body = "<Emessage/>") {
  OutboundRequest r;
  r.url = url;
  r.body = std::move(body);
  return r;
}

bool got_one(const std::vector<ReceivedRequest>& r) { return !r.empty(); }

// A socket listening on 127.0.0.1 at a free port (written to `port`), with `backlog`; throws
// std::runtime_error when it cannot.
int listen_on_loopback(int backlog, unsigned short& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(fd, backlog) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  port = ntohs(addr.sin_port);
  return fd;
}

// A minimal HTTP/1.1 peer on 127.0.0.1 that answers every request with 200 "ok".
// kKeepOne: it accepts ONE connection, then closes its listening socket (so a second connection
// is refused at once), and keeps that connection alive: it tells whether the transport reuses
// connections. kCloseEach: it answers one request per connection with "Connection: close" and
// closes it, so the transport opens a socket per request (often with the number just freed).
// kDropEach: it answers one request per connection as if keeping it alive, then closes it (a
// receiver whose idle timeout is shorter than the transport's), so every kept connection is dead
// when the transport reuses it.
class OneConnectionPeer {
 public:
  enum Mode { kKeepOne, kCloseEach, kDropEach };
  explicit OneConnectionPeer(Mode mode = kKeepOne) : mode_(mode) {
    listener_ = listen_on_loopback(1, port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneConnectionPeer() {
    ::shutdown(listener_, SHUT_RDWR);  // ends a pending accept
    {
      std::lock_guard lock(mu_);
      if (connection_ >= 0) ::shutdown(connection_, SHUT_RDWR);  // ends a pending read
    }
    thread_.join();
    ::close(listener_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/inbox"; }
  int answered() {
    std::lock_guard lock(mu_);
    return answered_;
  }

 private:
  void serve() {
    if (mode_ == kKeepOne) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd >= 0) {
        ::shutdown(listener_, SHUT_RDWR);
        serve_connection(fd);
      }
      return;
    }
    for (;;) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      serve_connection(fd);
    }
  }

  void serve_connection(int fd) {
    {
      std::lock_guard lock(mu_);
      connection_ = fd;
    }
    std::string in;
    char buf[8192];
    for (;;) {
      const std::size_t head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::size_t length = 0;
        const std::size_t at = in.find("Content-Length: ");
        if (at != std::string::npos && at < head_end)
          length = std::stoul(in.substr(at + 16, in.find("\r\n", at) - at - 16));
        if (in.size() >= head_end + 4 + length) {
          in.erase(0, head_end + 4 + length);
          static constexpr char kReply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
          static constexpr char kLast[] =
              "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok";
          const bool last = mode_ == kCloseEach;
          const bool drop = last || mode_ == kDropEach;
          {
            // Counted before it is sent: the client may read it and ask answered() before this
            // thread would get to count it afterwards.
            std::lock_guard lock(mu_);
            ++answered_;
          }
          if (::send(fd, last ? kLast : kReply, last ? sizeof kLast - 1 : sizeof kReply - 1,
                     MSG_NOSIGNAL) < 0)
            break;
          if (drop) break;
          continue;
        }
      }
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
    }
    std::lock_guard lock(mu_);
    ::close(fd);
    connection_ = -1;
  }

  Mode mode_;
  int listener_ = -1;
  unsigned short port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  int connection_ = -1;  // guarded by mu_
  int answered_ = 0;     // guarded by mu_
};

// Posts `count` 4 KB requests to `peer` one after another, each answered 200 "ok" before the
// next goes; then the peer must have answered exactly `count`.
void deliver_one_after_another(OneConnectionPeer& peer, int count) {
  BeastTransport transport;
  for (int i = 0; i < count; ++i) {
    Outcomes outcomes;
    transport.post(request(peer.url(), std::string(4096, 'a' + i % 26)), outcomes.done("r"));
    const auto response = outcomes.wait_for("r", kWait);
    ASSERT_TRUE(response) << i;
    ASSERT_EQ(response->http_status, 200) << i << ": " << response->error;
    EXPECT_EQ(response->body, "ok");
  }
  EXPECT_EQ(peer.answered(), count);
}

TEST(BeastTransport, PostsTheBodyAndReportsStatusAndBody) {
  HttpReceiver receiver([](const ReceivedRequest& r) {
    return ReplyPlan{201, "<Receipt>" + std::to_string(r.body.size()) + "</Receipt>"};
  });
  BeastTransport transport;
  Outcomes outcomes;
  OutboundRequest r = request(receiver.url("/inbox/x"), "<Emessage>æøå</Emessage>");
  r.content_type = "application/xml; charset=iso-8859-1";
  transport.post(r, outcomes.done("a"));

  const auto response = outcomes.wait_for("a", kWait);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->http_status, 201);
  EXPECT_EQ(response->body, "<Receipt>" + std::to_string(r.body.size()) + "</Receipt>");
  EXPECT_EQ(response->error, "");

  const auto received = receiver.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].target, "/inbox/x");
  EXPECT_EQ(received[0].content_type, "application/xml; charset=iso-8859-1");
  EXPECT_EQ(received[0].body, r.body);
}

TEST(BeastTransport, ErrorStatusesComeBackWithTheirBodiesAndNoErrorText) {
  HttpReceiver receiver;
  BeastTransport transport;
  for (const int status : {400, 404, 503, 302}) {
    receiver.set_handler([status](const ReceivedRequest&) {
      return ReplyPlan{status, "why " + std::to_string(status)};
    });
    Outcomes outcomes;
    transport.post(request(receiver.url()), outcomes.done("r"));
    const auto response = outcomes.wait_for("r", kWait);
    ASSERT_TRUE(response) << status;
    EXPECT_EQ(response->http_status, status);
    EXPECT_EQ(response->body, "why " + std::to_string(status));
    EXPECT_EQ(response->error, "");
  }
  // The 302 was reported, not followed (it had nowhere to go, but one request was made for it).
  EXPECT_EQ(receiver.received().size(), 4u);
}

TEST(BeastTransport, ConnectionRefusedIsStatusZeroWithItsText) {
  unsigned short closed_port = 0;
  { closed_port = HttpReceiver().port(); }  // bound, then released: nothing listens there
  BeastTransport transport;
  Outcomes outcomes;
  transport.post(request("http://127.0.0.1:" + std::to_string(closed_port) + "/inbox"),
                 outcomes.done("r"));
  const auto response = outcomes.wait_for("r", kWait);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->http_status, 0);
  EXPECT_EQ(response->error, "Couldn't connect to server");
  EXPECT_EQ(response->body, "");
}

TEST(BeastTransport, TimeoutComesFromTheRequest) {
  HttpReceiver receiver([](const ReceivedRequest&) {
    ReplyPlan plan;
    plan.body = "late";
    plan.delay = seconds{5};
    return plan;
  });
  BeastTransport transport;
  Outcomes outcomes;
  OutboundRequest r = request(receiver.url());
  r.timeout = milliseconds{200};
  transport.post(r, outcomes.done("r"));
  const auto response = outcomes.wait_for("r", kWait);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->http_status, 0);
  EXPECT_EQ(response->error, "Timeout was reached");
  EXPECT_EQ(response->body, "");
}

TEST(BeastTransport, OnlyHttpAndHttpsAreAllowed) {
  BeastTransport transport;
  Outcomes outcomes;
  transport.post(request("file:///etc/passwd"), outcomes.done("file"));
  transport.post(request("ftp://127.0.0.1/inbox"), outcomes.done("ftp"));
  for (const char* name : {"file", "ftp"}) {
    const auto response = outcomes.wait_for(name, kWait);
    ASSERT_TRUE(response) << name;
    EXPECT_EQ(response->http_status, 0) << name;
    EXPECT_EQ(response->error, "Unsupported protocol") << name;
    EXPECT_EQ(response->body, "") << name;
  }
}

TEST(BeastTransport, ResponseBodyIsCappedAtOneMebibyte) {
  constexpr std::size_t kCap = 1024 * 1024;
  HttpReceiver receiver;
  BeastTransport transport;

  receiver.set_handler([](const ReceivedRequest&) {
    return ReplyPlan{200, std::string(kCap, 'x')};
  });
  Outcomes at_cap;
  transport.post(request(receiver.url()), at_cap.done("r"));
  const auto ok = at_cap.wait_for("r", kWait);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->http_status, 200);
  EXPECT_EQ(ok->body.size(), kCap);
  EXPECT_EQ(ok->error, "");

  receiver.set_handler([](const ReceivedRequest&) {
    return ReplyPlan{200, std::string(kCap + 1, 'x')};
  });
  Outcomes over;
  transport.post(request(receiver.url()), over.done("r"));
  const auto big = over.wait_for("r", kWait);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->http_status, 200);  // the peer did answer
  EXPECT_EQ(big->error, "response too large");
  EXPECT_EQ(big->body, "");
}

TEST(BeastTransport, ASlowEndpointDoesNotHoldUpAFastOne) {
  HttpReceiver slow([](const ReceivedRequest&) {
    ReplyPlan plan;
    plan.delay = seconds{2};
    return plan;
  });
  HttpReceiver fast;
  BeastTransport transport;
  Outcomes outcomes;

  transport.post(request(slow.url()), outcomes.done("slow"));
  ASSERT_TRUE(slow.wait_until(got_one, kWait));  // the slow transfer is in flight
  transport.post(request(fast.url()), outcomes.done("fast"));

  const auto fast_response = outcomes.wait_for("fast", kWait);
  ASSERT_TRUE(fast_response);
  EXPECT_EQ(fast_response->http_status, 200);
  EXPECT_FALSE(outcomes.has("slow"));  // still waiting for its answer

  const auto slow_response = outcomes.wait_for("slow", kWait);
  ASSERT_TRUE(slow_response);
  EXPECT_EQ(slow_response->http_status, 200);
  EXPECT_EQ(outcomes.order(), (std::vector<std::string>{"fast", "slow"}));
}

TEST(BeastTransport, ManyConcurrentTransfersEachGetTheirOwnAnswer) {
  HttpReceiver receiver([](const ReceivedRequest& r) { return ReplyPlan{200, "echo:" + r.body}; });
  BeastTransport transport;
  Outcomes outcomes;
  constexpr int kCount = 60;
  std::vector<std::thread> posters;
  for (int t = 0; t < 3; ++t) {
    posters.emplace_back([&, t] {
      for (int i = t; i < kCount; i += 3)
        transport.post(request(receiver.url(), std::to_string(i)),
                       outcomes.done(std::to_string(i)));
    });
  }
  for (auto& p : posters) p.join();
  ASSERT_TRUE(outcomes.wait_count(kCount, kWait));
  for (int i = 0; i < kCount; ++i) {
    const auto response = outcomes.wait_for(std::to_string(i), milliseconds{0});
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->body, "echo:" + std::to_string(i));
    EXPECT_EQ(outcomes.count(std::to_string(i)), 1u) << "done must run exactly once";
  }
  EXPECT_EQ(receiver.received().size(), static_cast<std::size_t>(kCount));
}

TEST(BeastTransport, DestructorFailsTransfersStillRunning) {
  HttpReceiver receiver([](const ReceivedRequest&) {
    ReplyPlan plan;
    plan.delay = std::chrono::hours{1};
    return plan;
  });
  Outcomes outcomes;
  {
    BeastTransport transport;
    transport.post(request(receiver.url()), outcomes.done("pending"));
    ASSERT_TRUE(receiver.wait_until(got_one, kWait));
  }
  // The destructor has returned, so `done` has already run.
  ASSERT_TRUE(outcomes.has("pending"));
  const auto response = outcomes.wait_for("pending", milliseconds{0});
  EXPECT_EQ(response->http_status, 0);
  EXPECT_EQ(response->error, "shutting down");
}

// Transfers reuse the kept-alive connection: a second connection to this peer is refused, so
// any transfer that opened one would fail.
TEST(BeastTransport, DeliveriesOneAfterAnotherReuseOneConnection) {
  OneConnectionPeer peer;
  deliver_one_after_another(peer, 20);
}

// A keep-alive HTTP/1.1 peer on 127.0.0.1 that counts the connections it accepted and answers
// 200 "ok" to requests in groups: it holds each request until `group` of them are waiting, then
// answers them all (so a group of n needs n connections at once).
class CountingPeer {
 public:
  explicit CountingPeer(int group) : group_(group) {
    listener_ = listen_on_loopback(64, port_);
    acceptor_ = std::thread([this] {
      for (;;) {
        const int fd = ::accept(listener_, nullptr, nullptr);
        if (fd < 0) return;
        std::lock_guard lock(mu_);
        connections_.push_back(fd);
        servers_.emplace_back([this, fd] { serve(fd); });
      }
    });
  }
  ~CountingPeer() {
    ::shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      for (const int fd : connections_) ::shutdown(fd, SHUT_RDWR);
      cv_.notify_all();
    }
    for (auto& t : servers_) t.join();
    for (const int fd : connections_) ::close(fd);
    ::close(listener_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/inbox"; }
  void set_group(int n) {
    std::lock_guard lock(mu_);
    group_ = n;
  }
  int accepted() {
    std::lock_guard lock(mu_);
    return static_cast<int>(connections_.size());
  }

 private:
  void serve(int fd) {
    std::string in;
    char buf[8192];
    for (;;) {
      const std::size_t head_end = in.find("\r\n\r\n");
      std::size_t length = 0;
      const std::size_t at = in.find("Content-Length: ");
      if (head_end != std::string::npos && at != std::string::npos && at < head_end)
        length = std::stoul(in.substr(at + 16, in.find("\r\n", at) - at - 16));
      if (head_end != std::string::npos && in.size() >= head_end + 4 + length) {
        in.erase(0, head_end + 4 + length);
        {
          std::unique_lock lock(mu_);
          const std::uint64_t my_round = round_;
          if (++waiting_ >= group_) {
            waiting_ = 0;
            ++round_;
            cv_.notify_all();
          } else {
            cv_.wait(lock, [&] { return round_ != my_round || stopping_; });
          }
          if (stopping_) return;
        }
        static constexpr char kReply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        if (::send(fd, kReply, sizeof kReply - 1, MSG_NOSIGNAL) < 0) return;
        continue;
      }
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<std::size_t>(n));
    }
  }

  int listener_ = -1;
  unsigned short port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable cv_;
  int group_;                     // guarded by mu_
  int waiting_ = 0;               // guarded by mu_
  std::uint64_t round_ = 0;       // guarded by mu_
  bool stopping_ = false;         // guarded by mu_
  std::vector<int> connections_;  // guarded by mu_
  std::vector<std::thread> servers_;
};

// After a burst of deliveries and a quiet spell with one at a time, the next burst finds the
// burst's connections still open (libcurl, the transport before, left to itself kept 4 per
// transfer in flight NOW and closed them one by one as the burst ended).
TEST(BeastTransport, TheConnectionsOfABurstAreKeptForTheNext) {
  constexpr int kBurst = 16;
  CountingPeer peer(kBurst);
  BeastTransport transport;
  auto burst = [&] {
    Outcomes outcomes;
    for (int i = 0; i < kBurst; ++i)
      transport.post(request(peer.url()), outcomes.done(std::to_string(i)));
    ASSERT_TRUE(outcomes.wait_count(kBurst, kWait));
    for (int i = 0; i < kBurst; ++i)
      EXPECT_EQ(outcomes.wait_for(std::to_string(i), milliseconds{0})->http_status, 200) << i;
  };
  burst();
  EXPECT_EQ(peer.accepted(), kBurst);  // the group needed one connection per request

  peer.set_group(1);
  for (int i = 0; i < 8; ++i) {
    Outcomes outcomes;
    transport.post(request(peer.url()), outcomes.done("r"));
    const auto response = outcomes.wait_for("r", kWait);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->http_status, 200);
  }

  peer.set_group(kBurst);
  burst();
  EXPECT_EQ(peer.accepted(), kBurst);
}

// A connection the peer closes after each answer ("Connection: close"): the transport's next
// socket often gets the number just freed, and is a new connection, not the old one reused.
TEST(BeastTransport, DeliveriesOverConnectionsThePeerClosesEachGetAnswered) {
  OneConnectionPeer peer(OneConnectionPeer::kCloseEach);
  deliver_one_after_another(peer, 20);
}

// Connections are kept and reused: what one transfer set or met (a short timeout, a body too
// large, a content type, a path) must not carry over to the next.
TEST(BeastTransport, ATransferCarriesNothingOverFromTheOneBefore) {
  HttpReceiver receiver;
  BeastTransport transport;

  receiver.set_handler([](const ReceivedRequest&) {
    ReplyPlan plan;
    plan.delay = milliseconds{600};
    return plan;
  });
  Outcomes first;
  OutboundRequest short_timeout = request(receiver.url("/one"));
  short_timeout.timeout = milliseconds{100};
  short_timeout.content_type = "application/fhir+xml";
  transport.post(short_timeout, first.done("r"));
  const auto timed_out = first.wait_for("r", kWait);
  ASSERT_TRUE(timed_out);
  EXPECT_EQ(timed_out->error, "Timeout was reached");

  receiver.set_handler([](const ReceivedRequest&) {
    return ReplyPlan{200, std::string(1024 * 1024 + 1, 'x')};
  });
  Outcomes second;
  transport.post(request(receiver.url("/two")), second.done("r"));
  const auto too_large = second.wait_for("r", kWait);
  ASSERT_TRUE(too_large);
  EXPECT_EQ(too_large->error, "response too large");

  // Slower than the first transfer's timeout, with the default one (10 s).
  receiver.set_handler([](const ReceivedRequest& r) {
    ReplyPlan plan{202, "got " + r.body};
    plan.delay = milliseconds{300};
    return plan;
  });
  Outcomes third;
  transport.post(request(receiver.url("/three"), "<b/>"), third.done("r"));
  const auto ok = third.wait_for("r", kWait);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->http_status, 202);
  EXPECT_EQ(ok->body, "got <b/>");
  EXPECT_EQ(ok->error, "");

  const auto received = receiver.received();
  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(received[0].target, "/one");
  EXPECT_EQ(received[0].content_type, "application/fhir+xml");
  EXPECT_EQ(received[2].target, "/three");
  EXPECT_EQ(received[2].content_type, "application/xml; charset=utf-8");
  EXPECT_EQ(received[2].body, "<b/>");
}

TEST(BeastTransport, APeerGoneAfterKeepAliveIsStatusZeroNotAHang) {
  auto receiver = std::make_unique<HttpReceiver>();
  BeastTransport transport;
  Outcomes first;
  transport.post(request(receiver->url()), first.done("r"));
  ASSERT_TRUE(first.wait_for("r", kWait));
  const unsigned short port = receiver->port();
  receiver.reset();  // kept-alive connection is now dead; nothing listens on the port
  Outcomes second;
  transport.post(request("http://127.0.0.1:" + std::to_string(port) + "/inbox"), second.done("r"));
  const auto response = second.wait_for("r", kWait);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->http_status, 0);
  EXPECT_FALSE(response->error.empty());
}

// A kept connection the peer closed while it was idle: the request goes again on a new
// connection, once, and is answered; the peer answers each request once (none is lost, none is
// taken twice).
TEST(BeastTransport, AKeptConnectionThePeerClosedMeanwhileIsReplacedNotAFailure) {
  OneConnectionPeer peer(OneConnectionPeer::kDropEach);
  deliver_one_after_another(peer, 20);
}

// A host name is looked up (localhost: ::1 and 127.0.0.1, where only the second listens), and
// the path's query is sent as it was given; a fragment is not sent.
TEST(BeastTransport, AHostNameIsLookedUpAndTheQueryKept) {
  HttpReceiver receiver;
  BeastTransport transport;
  Outcomes outcomes;
  transport.post(request("http://localhost:" + std::to_string(receiver.port()) +
                         "/inbox/psy?from=jc&n=1#part"),
                 outcomes.done("r"));
  const auto response = outcomes.wait_for("r", kWait);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->http_status, 200) << response->error;
  const auto received = receiver.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].target, "/inbox/psy?from=jc&n=1");
}

TEST(BeastTransport, AMalformedUrlIsRefusedWithoutAConnection) {
  BeastTransport transport;
  Outcomes outcomes;
  const char* urls[] = {"http://", "http://:80/x", "http://user:pw@127.0.0.1/x",
                        "http://127.0.0.1:8x/x", "http://[::1/x"};
  for (const char* url : urls) transport.post(request(url), outcomes.done(url));
  for (const char* url : urls) {
    const auto response = outcomes.wait_for(url, kWait);
    ASSERT_TRUE(response) << url;
    EXPECT_EQ(response->http_status, 0) << url;
    EXPECT_EQ(response->error, "Malformed URL") << url;
  }
}

}  // namespace
}  // namespace sektorbro
