// The side-by-side bench's lean load (http_load_client.hpp, counting_receiver.hpp,
// http_head.hpp) against the test harness's HTTP parts: the lean client must send what the
// curl load sent (each letter once, its own id, answered before the next) and count as it did;
// the counting receiver must answer and count what the broker's delivery sends.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "bench/counting_receiver.hpp"
#include "bench/http_head.hpp"
#include "bench/http_load_client.hpp"
#include "broker/http/http_server.hpp"
#include "tests/harness/http_client.hpp"
#include "tests/support/http_receiver.hpp"

namespace sektorbro::bench {
namespace {

TEST(HttpHead, ReadsAResponsesStatusLengthAndConnection) {
  const std::string answer =
      "HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\ncontent-length: 5\r\n"
      "Connection: close\r\n\r\nhello";
  const HttpHead h = parse_http_head(answer, true);
  ASSERT_EQ(h.state, HeadState::complete);
  EXPECT_EQ(h.status, 202);
  EXPECT_EQ(h.content_length, 5u);
  EXPECT_EQ(h.size, answer.size() - 5);
  EXPECT_TRUE(h.close);
  EXPECT_FALSE(h.chunked);
}

TEST(HttpHead, IsIncompleteUntilTheBlankLineAndRefusesWhatItCannotRead) {
  EXPECT_EQ(parse_http_head("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", true).state,
            HeadState::incomplete);
  EXPECT_EQ(parse_http_head("HTTP/1.1 2x0 OK\r\n\r\n", true).state, HeadState::malformed);
  EXPECT_EQ(parse_http_head("HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n", true).state,
            HeadState::malformed);
  EXPECT_EQ(parse_http_head("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", true).state,
            HeadState::malformed);
  EXPECT_EQ(parse_http_head(std::string(20000, 'a'), true).state, HeadState::malformed);
  EXPECT_TRUE(
      parse_http_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true).chunked);
}

TEST(HttpHead, ReadsARequestsMethodAndKeepsHttp10KeepAliveOpen) {
  const HttpHead post =
      parse_http_head("POST /inbox HTTP/1.1\r\nContent-Length: 12\r\n\r\n", false);
  ASSERT_EQ(post.state, HeadState::complete);
  EXPECT_EQ(post.method, "POST");
  EXPECT_EQ(post.content_length, 12u);
  EXPECT_FALSE(post.close);
  EXPECT_TRUE(parse_http_head("GET / HTTP/1.0\r\n\r\n", false).close);
  EXPECT_FALSE(parse_http_head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false).close);
  EXPECT_EQ(parse_http_head("GARBAGE\r\n\r\n", false).state, HeadState::malformed);
}

TEST(LeanLoad, FullSpeedPostsEveryLetterOnceWithItsOwnIdAndCountsThe202s) {
  testing::HttpReceiver receiver([](const testing::ReceivedRequest&) {
    testing::ReplyPlan plan;
    plan.status = 202;
    return plan;
  });
  const BenchParties parties;
  const LetterTemplate letters(parties);
  std::atomic<std::uint64_t> ids{100};
  const auto start = SteadyClock::now() + std::chrono::milliseconds{100};
  const IntakeResult r = lean_post_at_full_speed(receiver.url("/v1/messages"), letters, 4, start,
                                                 start + std::chrono::milliseconds{300}, 'T', ids);
  const auto got = receiver.received();
  EXPECT_EQ(r.failed, 0u) << r.first_failure;
  EXPECT_GT(r.accepted, 0u);
  ASSERT_EQ(r.accepted + r.accepted_late, got.size());
  EXPECT_EQ(ids.load(), 100 + got.size());
  std::set<std::string> bodies;
  for (const auto& request : got) {
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.target, "/v1/messages");
    EXPECT_EQ(request.content_type, "application/xml; charset=utf-8");
    bodies.insert(request.body);
  }
  for (std::uint64_t n = 100; n < 100 + got.size(); ++n)
    EXPECT_EQ(bodies.count(letters.with_id('T', n)), 1u) << "letter " << n;
}

// Against the broker's own HttpServer, which reads pipelined requests ahead: one connection
// keeps several letters in flight, never more than asked, and each is sent and counted once.
TEST(LeanLoad, PipelinedPostsKeepSeveralLettersInFlightOnOneConnection) {
  asio::io_context io{1};
  int in_progress = 0, most = 0;  // the server's thread only
  std::set<std::string> bodies;
  HttpLimits limits;
  limits.max_pipelined_requests = 16;
  HttpServer server(
      io, limits, [&](HttpRequest request, PeerIdentity) -> asio::awaitable<HttpResponse> {
        most = std::max(most, ++in_progress);
        bodies.insert(request.body());
        asio::steady_timer work(io, std::chrono::milliseconds{2});  // a commit's worth of waiting
        co_await work.async_wait(asio::use_awaitable);
        --in_progress;
        co_return make_response(http::status::accepted, "", "text/plain");
      });
  const auto port = server.listen("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.error().detail;
  std::thread thread([&] { io.run(); });

  const BenchParties parties;
  const LetterTemplate letters(parties);
  std::atomic<std::uint64_t> ids{0};
  const auto start = SteadyClock::now() + std::chrono::milliseconds{50};
  const IntakeResult r =
      lean_post_at_full_speed("http://127.0.0.1:" + std::to_string(*port) + "/v1/messages", letters,
                              1, start, start + std::chrono::milliseconds{300}, 'P', ids, 4);
  asio::post(io, [&] {
    server.stop();
    io.stop();
  });
  thread.join();

  EXPECT_EQ(r.failed, 0u) << r.first_failure;
  EXPECT_GT(r.accepted, 0u);
  EXPECT_EQ(most, 4);  // one connection, four letters in flight
  ASSERT_EQ(bodies.size(), r.accepted + r.accepted_late);
  EXPECT_EQ(ids.load(), bodies.size());
  for (std::uint64_t n = 0; n < bodies.size(); ++n)
    EXPECT_EQ(bodies.count(letters.with_id('P', n)), 1u) << "letter " << n;
}

TEST(LeanLoad, CountsAnyOtherAnswerAsAFailureAndDescribesTheFirst) {
  testing::HttpReceiver receiver([](const testing::ReceivedRequest&) {
    testing::ReplyPlan plan;
    plan.status = 400;
    plan.body = "<Refusal><RefuseText>not this one</RefuseText></Refusal>";
    return plan;
  });
  const BenchParties parties;
  const LetterTemplate letters(parties);
  std::atomic<std::uint64_t> ids{0};
  const auto start = SteadyClock::now();
  const IntakeResult r = lean_post_at_full_speed(receiver.url("/v1/messages"), letters, 2, start,
                                                 start + std::chrono::milliseconds{200}, 'F', ids);
  EXPECT_EQ(r.accepted + r.accepted_late, 0u);
  EXPECT_GT(r.failed, 0u);
  EXPECT_EQ(r.failed, receiver.received().size());
  EXPECT_EQ(r.first_failure, "HTTP 400: <RefuseText>not this one</RefuseText></Refusal>");
}

TEST(LeanLoad, AtRateSendsEachScheduledLetterAndTimesItFromItsSchedule) {
  testing::HttpReceiver receiver([](const testing::ReceivedRequest&) {
    testing::ReplyPlan plan;
    plan.status = 202;
    plan.delay = std::chrono::milliseconds{20};  // every answer at least 20 ms after its send
    return plan;
  });
  const BenchParties parties;
  const LetterTemplate letters(parties);
  std::atomic<std::uint64_t> ids{0};
  const LatencyResult r =
      lean_post_at_rate(receiver.url("/v1/messages"), letters, 8, 200, 0.5, 'L', ids);
  EXPECT_EQ(r.failed, 0u) << r.first_failure;
  ASSERT_EQ(r.ms.size(), 100u);
  EXPECT_EQ(receiver.received().size(), 100u);
  EXPECT_GE(r.ms.front(), 20.0);
  EXPECT_TRUE(std::is_sorted(r.ms.begin(), r.ms.end()));
}

TEST(CountingReceiver, AnswersEachRequest200OverKeepAliveAndCountsIt) {
  std::atomic<int> count{0};
  CountingReceiver receiver([&] { ++count; });
  testing::HttpClient client;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.post(receiver.url(), "<a/>").status, 200);
  EXPECT_EQ(client.post(receiver.url(), std::string(100'000, 'x')).status, 200);  // > its buffer
  EXPECT_EQ(count.load(), 4);  // counted before the answer was written
}

}  // namespace
}  // namespace sektorbro::bench
