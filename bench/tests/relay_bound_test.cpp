// The relay bound (relay_bound.hpp): what the side-by-side bench compares with must relay what
// the broker would — every letter answered 202, each delivered once and byte for byte with the
// broker's content type — or its rate is not the ceiling it claims to be.
#include "bench/relay_bound.hpp"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "bench/sektorbro_load.hpp"
#include "tests/harness/http_client.hpp"
#include "tests/support/http_receiver.hpp"

namespace sektorbro::bench {
namespace {

TEST(RelayBound, AnswersEachPost202AndDeliversItOnceUnchanged) {
  testing::HttpReceiver receiver([](const testing::ReceivedRequest&) {
    testing::ReplyPlan plan;
    plan.status = 200;
    plan.delay = std::chrono::milliseconds{5};  // answers slower than the relay takes letters
    return plan;
  });
  auto relay = RelayBound::start(0, receiver.url("/inbox"), 2);  // a window narrower than load
  ASSERT_TRUE(relay) << relay.error().detail;
  const BenchParties parties;
  const LetterTemplate letters(parties);
  const std::string url = "http://127.0.0.1:" + std::to_string((*relay)->port()) + "/v1/messages";
  testing::HttpClient client;
  const std::size_t sent = 20;  // each answered at once: they queue behind the window of 2
  for (std::size_t n = 0; n < sent; ++n)
    ASSERT_EQ(client.post(url, letters.with_id('R', n)).status, 202) << "letter " << n;
  ASSERT_TRUE(receiver.wait_until([&](const auto& got) { return got.size() >= sent; },
                                  std::chrono::seconds{30}));
  std::map<std::string, int> delivered;
  for (const auto& request : receiver.received()) {
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.target, "/inbox");
    EXPECT_EQ(request.content_type, "application/xml; charset=utf-8");
    ++delivered[request.body];
  }
  EXPECT_EQ(receiver.received().size(), sent);
  for (std::size_t n = 0; n < sent; ++n)
    EXPECT_EQ(delivered[letters.with_id('R', n)], 1) << "letter " << n;
  EXPECT_EQ((*relay)->failed(), 0u);
}

TEST(RelayBound, CountsTransfersTheReceiverDidNotTake) {
  testing::HttpReceiver receiver([](const testing::ReceivedRequest&) {
    testing::ReplyPlan plan;
    plan.status = 503;
    return plan;
  });
  auto relay = RelayBound::start(0, receiver.url("/inbox"), 64);
  ASSERT_TRUE(relay) << relay.error().detail;
  testing::HttpClient client;
  const std::string url = "http://127.0.0.1:" + std::to_string((*relay)->port()) + "/v1/messages";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.post(url, "<a/>").status, 202);
  ASSERT_TRUE(receiver.wait_until([](const auto& got) { return got.size() >= 3; },
                                  std::chrono::seconds{30}));
  // The third 503 is counted on the transport's thread once its answer is read.
  for (const auto until = SteadyClock::now() + std::chrono::seconds{30};
       (*relay)->failed() < 3 && SteadyClock::now() < until;)
    std::this_thread::yield();
  EXPECT_EQ((*relay)->failed(), 3u);
}

TEST(RelayBound, RefusesAPortInUse) {
  auto first = RelayBound::start(0, "http://127.0.0.1:9/", 1);
  ASSERT_TRUE(first) << first.error().detail;
  auto second = RelayBound::start((*first)->port(), "http://127.0.0.1:9/", 1);
  EXPECT_FALSE(second);
}

}  // namespace
}  // namespace sektorbro::bench
