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

}  // namespace
}  // namespace sektorbro::testing
