// Issue 12 (hardening), the items whose honest place is the drivers on MemoryStore: the deadline
// views at the boundary of a due day, delivery through a long receiver outage and after a
// requeue, and who may read a mailbox. No socket, no sleeping: the manual clock moves.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "broker/core/copenhagen_time.hpp"
#include "broker/server/tests/broker_under_test.hpp"

namespace sektorbro::testing {
namespace {

class HardeningTest : public ::testing::Test, protected Parties {
 protected:
  BrokerConfig config = test_config(*this);
  std::unique_ptr<BrokerUnderTest> b;

  void start() { b = std::make_unique<BrokerUnderTest>(config); }
  Envelope request(const std::string& id) {
    return make_certificate_request(jc, psy, "ENV-" + id, id, b->clock.now());
  }
  nlohmann::json get_json(const std::string& target) {
    const auto r = b->get(target);
    EXPECT_EQ(r.result(), http::status::ok) << target << ": " << r.body();
    return nlohmann::json::parse(r.body(), nullptr, false);
  }
  void fail_deliveries(bool fail) {
    b->transport.answer_with([fail](const OutboundRequest&) {
      return fail ? TransportResponse{503, "", ""} : TransportResponse{200, "", ""};
    });
  }
};

// Items 18, 20, 21: one boundary (past_due: at due_end the deadline has passed) in the list's
// filter and in each deadline's fields; an open overdue deadline carries days_late; age_days
// counts Copenhagen calendar days.
TEST_F(HardeningTest, AnOpenDeadlineIsOverdueFromItsDueEndAndSaysHowLate) {
  start();
  ASSERT_EQ(b->post(request("REQ1")).result(), http::status::accepted);
  ASSERT_TRUE(b->run_until([&] {
    const auto m = b->message_of(jc.gln, "REQ1");
    return m && m->state == DeliveryState::kDelivered;
  }));
  b->settle();
  auto found = b->store->find_deadline(DeadlineKey{jc.gln, "REQ1"});
  ASSERT_TRUE(found && found->has_value());
  const Deadline d = **found;

  b->advance(d.due_end - std::chrono::milliseconds{1} - b->clock.now());
  auto overdue = get_json("/v1/deadlines?view=overdue");
  EXPECT_TRUE(overdue["deadlines"].empty()) << "the last millisecond of the due day";
  auto open = get_json("/v1/deadlines?view=open");
  ASSERT_EQ(open["deadlines"].size(), 1u);
  EXPECT_FALSE(open["deadlines"][0]["overdue"].get<bool>());
  EXPECT_FALSE(open["deadlines"][0].contains("days_late"));

  b->advance(std::chrono::milliseconds{1});  // now == due_end
  overdue = get_json("/v1/deadlines?view=overdue");
  ASSERT_EQ(overdue["deadlines"].size(), 1u) << "overdue at due_end itself";
  const auto& j = overdue["deadlines"][0];
  EXPECT_TRUE(j["overdue"].get<bool>());
  ASSERT_TRUE(j.contains("days_late")) << j.dump();
  EXPECT_EQ(j["days_late"].get<int>(), 1);
  // Calendar days in Copenhagen from the opening date to today's date (due date + 1).
  const auto opened = std::chrono::sys_days{copenhagen_date(d.opened_at)};
  const auto today = std::chrono::sys_days{copenhagen_date(b->clock.now())};
  EXPECT_EQ(j["age_days"].get<int>(), (today - opened).count());

  b->advance(std::chrono::days{2});
  EXPECT_EQ(get_json("/v1/deadlines?view=overdue")["deadlines"][0]["days_late"].get<int>(), 3);
}

// Item 11: with the shipped retry settings (only jitter off here, for exact instants), a
// receiver that is down for 72 hours gets everything afterwards and nothing is dead-lettered.
// Before, max_attempts 10 dead-lettered after about 17 minutes.
TEST_F(HardeningTest, ASeventyTwoHourReceiverOutageDeadLettersNothing) {
  config.delivery.retry = RetryPolicy{};
  config.delivery.retry.jitter = 0.0;
  start();
  fail_deliveries(true);
  const std::vector<std::string> ids = {"OUT1", "OUT2", "OUT3"};
  for (const auto& id : ids) ASSERT_EQ(b->post(request(id)).result(), http::status::accepted);
  b->settle();
  const auto outage = std::chrono::hours{72};
  for (Duration passed{}; passed < outage; passed += std::chrono::minutes{5})
    b->advance(std::chrono::minutes{5});
  for (const auto& id : ids) {
    const auto m = b->message_of(jc.gln, id);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->state, DeliveryState::kPending) << id << " still retried after 72 h";
    // Backing off to the 10-minute cap and staying there: about six attempts an hour.
    EXPECT_GT(m->attempts, 72 * 5) << id;
  }
  fail_deliveries(false);
  b->advance(std::chrono::minutes{11});
  for (const auto& id : ids) {
    const auto m = b->message_of(jc.gln, id);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->state, DeliveryState::kDelivered) << id;
    const auto kinds = b->timeline_kinds(m->id);
    EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "dead-lettered"), 0) << id;
  }
  auto dead = b->store->list_messages([] {
    MessageFilter f;
    f.state = DeliveryState::kDeadLettered;
    return f;
  }());
  ASSERT_TRUE(dead);
  EXPECT_TRUE(dead->empty());
}

// Item 11: a requeued dead letter gets a fresh budget, its age counted from the requeue. Before,
// a message requeued after max_age had passed got exactly one more try.
TEST_F(HardeningTest, ARequeuedDeadLetterGetsAFreshBudget) {
  config.delivery.retry = RetryPolicy{};
  config.delivery.retry.jitter = 0.0;
  config.delivery.retry.max_age = std::chrono::hours{1};
  start();
  fail_deliveries(true);
  ASSERT_EQ(b->post(request("DEAD1")).result(), http::status::accepted);
  b->settle();
  for (int i = 0; i < 14; ++i) b->advance(std::chrono::minutes{5});
  auto m = b->message_of(jc.gln, "DEAD1");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->state, DeliveryState::kDeadLettered) << "max_age (1 h) ran out";

  const auto requeued = b->send(http::verb::post, "/v1/messages/" + jc.gln + "/DEAD1/requeue");
  ASSERT_EQ(requeued.result(), http::status::ok) << requeued.body();
  b->advance(std::chrono::seconds{1});
  // Still failing: retried for another hour from the requeue, not dead-lettered at once.
  for (int i = 0; i < 6; ++i) b->advance(std::chrono::minutes{5});
  m = b->message_of(jc.gln, "DEAD1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->state, DeliveryState::kPending) << "half an hour into the fresh budget";
  EXPECT_GT(m->attempts, 3);
  for (int i = 0; i < 8; ++i) b->advance(std::chrono::minutes{5});
  m = b->message_of(jc.gln, "DEAD1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->state, DeliveryState::kDeadLettered) << "the fresh budget runs out too";
}

// Item 14: a message's timeline is in time order: the receipt a receiver put in its answer to
// the delivery is listed after the delivery (it was committed first, at the same instant).
TEST_F(HardeningTest, TheTimelineListsTheDeliveryBeforeTheReceiptInItsAnswer) {
  start();
  b->transport.answer_with([](const OutboundRequest& r) {
    auto envelope = decode_envelope(r.body);
    if (!envelope) return TransportResponse{400, "", ""};
    return TransportResponse{
        200, encode_envelope(make_positive_receipt(*envelope, "KV1", "KV1", envelope->sent)), ""};
  });
  ASSERT_EQ(b->post(request("TL1")).result(), http::status::accepted);
  ASSERT_TRUE(b->run_until([&] {
    const auto m = b->message_of(jc.gln, "TL1");
    return m && m->state == DeliveryState::kDelivered;
  }));
  b->settle();
  const auto shown = get_json("/v1/messages/" + jc.gln + "/TL1");
  std::vector<std::string> kinds;
  for (const auto& e : shown["timeline"]) kinds.push_back(e["event"].get<std::string>());
  const auto delivered = std::find(kinds.begin(), kinds.end(), "delivered");
  const auto receipt = std::find(kinds.begin(), kinds.end(), "receipt");
  ASSERT_NE(delivered, kinds.end()) << shown.dump();
  ASSERT_NE(receipt, kinds.end()) << shown.dump();
  EXPECT_LT(delivered - kinds.begin(), receipt - kinds.begin()) << shown.dump();
}

// Item 4: no message body leaves without an authenticated reader. With operators configured the
// broker is run as in production, so the plain listener's ?endpoint= (which proves nothing)
// is refused; only the demo and tests (plain loopback, no operators) keep that shortcut.
TEST_F(HardeningTest, TheMailboxIsClosedOnPlainHttpWhenOperatorsAreConfigured) {
  config.endpoints[1].url = "mailbox:";  // psy pulls
  OperatorConfig op;
  op.name = "ops";
  op.role = OperatorRole::kActing;
  op.token_sha256 = std::string(64, '0');
  config.operators.push_back(op);
  start();
  ASSERT_EQ(b->post(request("MBX1")).result(), http::status::accepted);
  b->settle();
  const auto r = b->get("/v1/mailbox?endpoint=psy");
  EXPECT_EQ(r.result(), http::status::forbidden);
  EXPECT_EQ(r.body().find("MBX1"), std::string::npos) << "no body, no letter id";
  EXPECT_EQ(b->send(http::verb::post, "/v1/mailbox/1/confirm?endpoint=psy").result(),
            http::status::forbidden);
}

TEST_F(HardeningTest, TheDemoMailboxWithoutOperatorsStaysOpenOnLoopback) {
  config.endpoints[1].url = "mailbox:";
  start();
  ASSERT_EQ(b->post(request("MBX2")).result(), http::status::accepted);
  b->settle();
  const auto r = b->get("/v1/mailbox?endpoint=psy");
  EXPECT_EQ(r.result(), http::status::ok);
  EXPECT_NE(r.body().find("MBX2"), std::string::npos);
}

}  // namespace
}  // namespace sektorbro::testing
