// Several brokers on one store (issue 11, item 2), driven without sockets: two Brokers on one
// MemoryStore (sharing its writer, as brokers on one PostgreSQL share its serialised commits),
// each with its own manual clock and scripted transport. A broker "dies" by no longer being run:
// it stops renewing, exactly what kill -9 leaves behind (tests/cluster runs the real thing).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "broker/server/tests/broker_under_test.hpp"

namespace sektorbro::testing {
namespace {

using std::chrono::seconds;

TransportResponse down(const OutboundRequest&) { return TransportResponse{503, "", ""}; }

class ClusterTest : public ::testing::Test, protected Parties {
 protected:
  BrokerConfig config_for(const std::string& node) {
    BrokerConfig c = test_config(*this);
    c.cluster.node = node;
    c.delivery.retry.max_attempts = 0;  // retry until max_age: the messages stay pending
    return c;
  }
  std::shared_ptr<MemoryStore> store = std::make_shared<MemoryStore>();
  std::unique_ptr<BrokerUnderTest> a = std::make_unique<BrokerUnderTest>(config_for("node-a"),
                                                                          store);
  std::unique_ptr<BrokerUnderTest> b =
      std::make_unique<BrokerUnderTest>(config_for("node-b"), store, a->writer());

  // Both stop and settle before either goes: they share one writer, whose answers must not
  // reach a broker that is gone.
  ~ClusterTest() override {
    a->broker().stop();
    b->broker().stop();
    a->settle();
    b->settle();
    b.reset();
    a.reset();
  }

  Envelope request(const std::string& id, TimePoint at) {
    return make_certificate_request(jc, psy, "ENV-" + id, id, at);
  }
  // The letter ids in the bodies a transport posted (each request names one REQ…).
  static std::set<std::string> letters_sent(const ScriptedTransport& t,
                                            const std::vector<std::string>& ids) {
    std::set<std::string> out;
    for (const auto& r : t.sent())
      for (const auto& id : ids)
        if (r.body.find(">" + id + "<") != std::string::npos) out.insert(id);
    return out;
  }
  // Both clocks move together, as two hosts' clocks do.
  void advance_both(Duration d) {
    a->advance(d);
    b->advance(d);
  }
};

TEST_F(ClusterTest, TwoBrokersNeverAttemptTheSameMessageWhileBothHoldTheirLeases) {
  a->transport.answer_with(down);
  b->transport.answer_with(down);
  std::vector<std::string> of_a;
  std::vector<std::string> of_b;
  for (int i = 0; i < 4; ++i) {
    of_a.push_back("REQA" + std::to_string(i));
    of_b.push_back("REQB" + std::to_string(i));
    ASSERT_EQ(a->post(request(of_a.back(), a->clock.now())).result(), http::status::accepted);
    ASSERT_EQ(b->post(request(of_b.back(), b->clock.now())).result(), http::status::accepted);
  }
  std::vector<std::string> all = of_a;
  all.insert(all.end(), of_b.begin(), of_b.end());
  // A minute and a half of retries, three leases' worth: both renew, neither takes the other's.
  for (int step = 0; step < 18; ++step) {
    advance_both(seconds{5});
    const auto by_a = letters_sent(a->transport, all);
    const auto by_b = letters_sent(b->transport, all);
    std::vector<std::string> both;
    std::set_intersection(by_a.begin(), by_a.end(), by_b.begin(), by_b.end(),
                          std::back_inserter(both));
    ASSERT_TRUE(both.empty()) << "attempted by both brokers: " << both.front();
  }
  EXPECT_EQ(letters_sent(a->transport, all), std::set<std::string>(of_a.begin(), of_a.end()));
  EXPECT_EQ(letters_sent(b->transport, all), std::set<std::string>(of_b.begin(), of_b.end()));
  EXPECT_GT(a->transport.count(), 4u * 4u) << "every message was retried several times";
  EXPECT_GT(b->transport.count(), 4u * 4u);
  EXPECT_EQ(a->broker().dispatcher().leases_held(), 4u);
  EXPECT_EQ(b->broker().dispatcher().leases_held(), 4u);

  // The receivers come back: each broker delivers its own, once.
  a->transport.answer_with({});
  b->transport.answer_with({});
  advance_both(std::chrono::minutes{1});
  for (const auto& id : all) {
    const auto m = a->message_of(jc.gln, id);
    ASSERT_TRUE(m) << id;
    EXPECT_EQ(m->state, DeliveryState::kDelivered) << id;
  }
  EXPECT_EQ(a->broker().dispatcher().leases_held(), 0u);
  EXPECT_EQ(b->broker().dispatcher().leases_held(), 0u);
}

TEST_F(ClusterTest, ABrokerThatStopsRenewingLosesItsDeliveriesToAnotherWhenItsLeasesEnd) {
  a->transport.answer_with(down);
  const TimePoint t0 = a->clock.now();
  for (const std::string id : {"REQ1", "REQ2", "REQ3"})
    ASSERT_EQ(a->post(request(id, t0)).result(), http::status::accepted);
  ASSERT_TRUE(a->run_until([&] { return a->transport.count() == 3; }))
      << "each tried once by node-a, its receiver is down";
  a->settle();
  // node-a dies here: from now on it is never run again, so it renews nothing.

  b->advance(seconds{20});
  EXPECT_EQ(b->transport.count(), 0u) << "node-a's leases still hold";
  b->advance(seconds{9});
  EXPECT_EQ(b->transport.count(), 0u) << "until t0 + 30 s";
  b->advance(seconds{1});  // t0 + 30 s: node-a's leases have ended
  ASSERT_TRUE(b->run_until([&] {
    for (const std::string id : {"REQ1", "REQ2", "REQ3"}) {
      const auto m = b->message_of(jc.gln, id);
      if (!m || m->state != DeliveryState::kDelivered) return false;
    }
    return true;
  }));
  EXPECT_EQ(b->transport.count(), 3u) << "node-b took each over and delivered it once";
  for (const std::string id : {"REQ1", "REQ2", "REQ3"})
    EXPECT_EQ(b->message_of(jc.gln, id)->attempts, 2) << id;
  EXPECT_EQ(a->transport.count(), 3u);
}

TEST_F(ClusterTest, OnlyTheSweeperLeaseHolderSweepsAndAnotherTakesOverWhenItEnds) {
  // A request delivered by node-a opens psy's deadline; its sweep steps (reminders, the overdue
  // flag) fall due later.
  ASSERT_EQ(a->post(request("REQ1", a->clock.now())).result(), http::status::accepted);
  ASSERT_TRUE(a->run_until([&] {
    const auto m = a->message_of(jc.gln, "REQ1");
    return m && m->state == DeliveryState::kDelivered;
  }));
  a->settle();
  const auto request_message = a->message_of(jc.gln, "REQ1");
  ASSERT_TRUE(request_message);
  auto steps = [&] {
    auto events = store->timeline(request_message->id);
    EXPECT_TRUE(events);
    return events ? std::count_if(events->begin(), events->end(),
                                  [](const MessageEvent& e) {
                                    return e.kind == "reminder" || e.kind == "overdue";
                                  })
                  : -1;
  };
  auto next_action = [&] {
    auto d = store->find_deadline(DeadlineKey{jc.gln, "REQ1"});
    EXPECT_TRUE(d && *d && (*d)->next_action_at);
    return (d && *d && (*d)->next_action_at) ? *(*d)->next_action_at : TimePoint{};
  };
  // Both brokers' clocks reach the first step; node-a sweeps first and takes it.
  const TimePoint first = next_action();
  a->clock.set(first);
  b->clock.set(first);
  a->advance(Duration{0});
  EXPECT_EQ(steps(), 1);
  b->advance(Duration{0});  // node-a holds the sweeper lease: node-b does nothing
  EXPECT_EQ(steps(), 1);
  // node-a dies. At the next step (days later) its sweeper lease has long ended: node-b sweeps,
  // and takes the step once.
  const TimePoint second = next_action();
  ASSERT_GT(second, first + std::chrono::minutes{2});
  b->clock.set(second);
  b->advance(Duration{0});
  EXPECT_EQ(steps(), 2);
  b->advance(Duration{0});
  EXPECT_EQ(steps(), 2) << "a second sweep takes no step twice";
}

}  // namespace
}  // namespace sektorbro::testing
