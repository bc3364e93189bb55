// Several brokers on one store (issue 11, item 2), driven without sockets: two Brokers on one
// MemoryStore (sharing its writer, as brokers on one PostgreSQL share its serialised commits),
// each with its own manual clock and scripted transport. A broker "dies" by no longer being run:
// it stops renewing, exactly what kill -9 leaves behind (tests/cluster runs the real thing).
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
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

// Mailbox fetches (issue 11): the lease a fetch takes is in the store, so a message fetched
// through one broker is not handed out by another until the lease ends unconfirmed.
class ClusterMailboxTest : public ClusterTest {
 protected:
  static BrokerConfig mailbox_config(BrokerConfig c) {
    c.endpoints[1].url = "mailbox:";  // psy pulls
    c.delivery.mailbox_lease = std::chrono::seconds{60};
    return c;
  }
  void SetUp() override {
    // Replaces the fixture's brokers with two whose psy endpoint pulls.
    a->broker().stop();
    b->broker().stop();
    a->settle();
    b->settle();
    b.reset();
    a.reset();
    a = std::make_unique<BrokerUnderTest>(mailbox_config(config_for("node-a")), store);
    b = std::make_unique<BrokerUnderTest>(mailbox_config(config_for("node-b")), store,
                                          a->writer());
  }
  // The letter ids a mailbox fetch through broker `x` handed out.
  static std::set<std::string> fetch(BrokerUnderTest& x, int limit = 20) {
    const auto r = x.get("/v1/mailbox?endpoint=psy&limit=" + std::to_string(limit));
    EXPECT_EQ(r.result(), http::status::ok) << r.body();
    const auto answer = nlohmann::json::parse(r.body());
    std::set<std::string> out;
    for (const auto& m : answer.at("messages"))
      for (const auto& l : m.at("letters")) out.insert(l.get<std::string>());
    return out;
  }
};

TEST_F(ClusterMailboxTest, AMessageGoesToOneFetcherAcrossBrokersUntilItsLeaseEnds) {
  const TimePoint t0 = a->clock.now();
  ASSERT_EQ(a->post(request("MB1", t0)).result(), http::status::accepted);
  ASSERT_EQ(b->post(request("MB2", t0)).result(), http::status::accepted);
  a->settle();
  b->settle();
  EXPECT_EQ(fetch(*a, 1), std::set<std::string>{"MB1"});
  EXPECT_EQ(fetch(*b), std::set<std::string>{"MB2"}) << "MB1 is leased to the fetch through a";
  EXPECT_TRUE(fetch(*a).empty());
  EXPECT_TRUE(fetch(*b).empty());
  advance_both(seconds{59});
  EXPECT_TRUE(fetch(*b).empty()) << "both leases hold until 60 s";
  // Neither was confirmed: at 60 s both are offered again, once.
  advance_both(seconds{1});
  EXPECT_EQ(fetch(*b), (std::set<std::string>{"MB1", "MB2"}));
  EXPECT_TRUE(fetch(*a).empty());
  const auto mb1 = a->message_of(jc.gln, "MB1");
  ASSERT_TRUE(mb1);
  EXPECT_EQ(a->send(http::verb::post,
                    "/v1/mailbox/" + std::to_string(mb1->id) + "/confirm?endpoint=psy")
                .result(),
            http::status::ok);
  advance_both(seconds{60});
  EXPECT_EQ(fetch(*a), std::set<std::string>{"MB2"}) << "the confirmed one is delivered";
  EXPECT_EQ(a->message_of(jc.gln, "MB1")->state, DeliveryState::kDelivered);
}

// Issue 11: leases are measured on the lease clock (real time), not the business clock. Here
// the business clocks race a day ahead (as the demo's accelerated clock does) while the lease
// clock stands still: node-a's leases still hold, and node-b takes nothing over until the lease
// clock passes their end.
class LeaseClockTest : public ::testing::Test, protected Parties {
 protected:
  BrokerConfig config_for(const std::string& node) {
    BrokerConfig c = test_config(*this);
    c.cluster.node = node;
    c.delivery.retry.max_attempts = 0;  // retry until max_age: the messages stay pending
    c.delivery.retry.max_age = std::chrono::hours{24 * 30};
    return c;
  }
  ManualClock lease_clock{from_millis(1'764'576'000'000)};  // the hosts' real time
  std::shared_ptr<MemoryStore> store = std::make_shared<MemoryStore>();
  std::unique_ptr<BrokerUnderTest> a =
      std::make_unique<BrokerUnderTest>(config_for("node-a"), store, nullptr, &lease_clock);
  std::unique_ptr<BrokerUnderTest> b = std::make_unique<BrokerUnderTest>(
      config_for("node-b"), store, a->writer(), &lease_clock);
  ~LeaseClockTest() override {
    a->broker().stop();
    b->broker().stop();
    a->settle();
    b->settle();
    b.reset();
    a.reset();
  }
};

TEST_F(LeaseClockTest, ABusinessClockRacingAheadEndsNoLease) {
  a->transport.answer_with(down);
  b->transport.answer_with(down);
  ASSERT_EQ(a->post(make_certificate_request(jc, psy, "ENV-L1", "REQL1", a->clock.now()))
                .result(),
            http::status::accepted);
  ASSERT_TRUE(a->run_until([&] { return a->transport.count() == 1; }));
  a->settle();
  // A day of business time passes on node-b, hour by hour, while no real time passes (the
  // demo's accelerated clock between two of node-a's renewals): on the business clock node-a's
  // lease (30 s) would long have ended.
  for (int hour = 0; hour < 24; ++hour) b->advance(std::chrono::hours{1});
  EXPECT_EQ(b->transport.count(), 0u) << "node-a's lease holds on the lease clock";
  a->advance(std::chrono::hours{24});
  EXPECT_GT(a->transport.count(), 1u) << "node-a kept retrying its own delivery";
  const auto m = a->message_of(jc.gln, "REQL1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->state, DeliveryState::kPending);
  // node-a dies; once the lease clock passes its lease (30 s), node-b takes it over.
  const std::size_t by_a = a->transport.count();
  lease_clock.advance(std::chrono::seconds{31});
  b->transport.answer_with({});
  b->advance(std::chrono::minutes{11});  // past node-a's next retry (backoff at most 10 min)
  ASSERT_TRUE(b->run_until([&] {
    const auto now = b->message_of(jc.gln, "REQL1");
    return now && now->state == DeliveryState::kDelivered;
  }));
  EXPECT_EQ(b->transport.count(), 1u);
  EXPECT_EQ(a->transport.count(), by_a);
}

}  // namespace
}  // namespace sektorbro::testing
