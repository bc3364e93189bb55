#include "broker/delivery/curl_transport.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
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

TEST(CurlTransport, PostsTheBodyAndReportsStatusAndBody) {
  HttpReceiver receiver([](const ReceivedRequest& r) {
    return ReplyPlan{201, "<Receipt>" + std::to_string(r.body.size()) + "</Receipt>"};
  });
  CurlTransport transport;
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

TEST(CurlTransport, ErrorStatusesComeBackWithTheirBodiesAndNoErrorText) {
  HttpReceiver receiver;
  CurlTransport transport;
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

TEST(CurlTransport, ConnectionRefusedIsStatusZeroWithCurlText) {
  unsigned short closed_port = 0;
  { closed_port = HttpReceiver().port(); }  // bound, then released: nothing listens there
  CurlTransport transport;
  Outcomes outcomes;
  transport.post(request("http://127.0.0.1:" + std::to_string(closed_port) + "/inbox"),
                 outcomes.done("r"));
  const auto response = outcomes.wait_for("r", kWait);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->http_status, 0);
  EXPECT_EQ(response->error, curl_easy_strerror(CURLE_COULDNT_CONNECT));
  EXPECT_EQ(response->body, "");
}

TEST(CurlTransport, TimeoutComesFromTheRequest) {
  HttpReceiver receiver([](const ReceivedRequest&) {
    ReplyPlan plan;
    plan.body = "late";
    plan.delay = seconds{5};
    return plan;
  });
  CurlTransport transport;
  Outcomes outcomes;
  OutboundRequest r = request(receiver.url());
  r.timeout = milliseconds{200};
  transport.post(r, outcomes.done("r"));
  const auto response = outcomes.wait_for("r", kWait);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->http_status, 0);
  EXPECT_EQ(response->error, curl_easy_strerror(CURLE_OPERATION_TIMEDOUT));
  EXPECT_EQ(response->body, "");
}

TEST(CurlTransport, OnlyHttpAndHttpsAreAllowed) {
  CurlTransport transport;
  Outcomes outcomes;
  transport.post(request("file:///etc/passwd"), outcomes.done("file"));
  transport.post(request("ftp://127.0.0.1/inbox"), outcomes.done("ftp"));
  for (const char* name : {"file", "ftp"}) {
    const auto response = outcomes.wait_for(name, kWait);
    ASSERT_TRUE(response) << name;
    EXPECT_EQ(response->http_status, 0) << name;
    EXPECT_EQ(response->error, curl_easy_strerror(CURLE_UNSUPPORTED_PROTOCOL)) << name;
    EXPECT_EQ(response->body, "") << name;
  }
}

TEST(CurlTransport, ResponseBodyIsCappedAtOneMebibyte) {
  constexpr std::size_t kCap = 1024 * 1024;
  HttpReceiver receiver;
  CurlTransport transport;

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

TEST(CurlTransport, ASlowEndpointDoesNotHoldUpAFastOne) {
  HttpReceiver slow([](const ReceivedRequest&) {
    ReplyPlan plan;
    plan.delay = seconds{2};
    return plan;
  });
  HttpReceiver fast;
  CurlTransport transport;
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

TEST(CurlTransport, ManyConcurrentTransfersEachGetTheirOwnAnswer) {
  HttpReceiver receiver([](const ReceivedRequest& r) { return ReplyPlan{200, "echo:" + r.body}; });
  CurlTransport transport;
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

TEST(CurlTransport, DestructorFailsTransfersStillRunning) {
  HttpReceiver receiver([](const ReceivedRequest&) {
    ReplyPlan plan;
    plan.delay = std::chrono::hours{1};
    return plan;
  });
  Outcomes outcomes;
  {
    CurlTransport transport;
    transport.post(request(receiver.url()), outcomes.done("pending"));
    ASSERT_TRUE(receiver.wait_until(got_one, kWait));
  }
  // The destructor has returned, so `done` has already run.
  ASSERT_TRUE(outcomes.has("pending"));
  const auto response = outcomes.wait_for("pending", milliseconds{0});
  EXPECT_EQ(response->http_status, 0);
  EXPECT_EQ(response->error, "shutting down");
}

TEST(CurlTransport, APeerGoneAfterKeepAliveIsStatusZeroNotAHang) {
  auto receiver = std::make_unique<HttpReceiver>();
  CurlTransport transport;
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

}  // namespace
}  // namespace sektorbro
