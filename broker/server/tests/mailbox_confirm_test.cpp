// Mailbox confirms that race (issue 11): two clients confirm the same fetched message at the
// same time — through one broker, or through two brokers on one store. Exactly one confirm
// delivers the message (one "delivered" on its timeline, one receipt watch, one deadline
// opened); the other is answered 409 and names the state the message is in.
//
// No sleeping: a gate job holds the shared writer so that both confirms have read the message
// (pending) and queued their commits before either commits — the interleaving that raced.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <nlohmann/json.hpp>

#include "broker/server/tests/broker_under_test.hpp"

namespace sektorbro::testing {
namespace {

BrokerConfig mailbox_config(const Parties& p, const std::string& node) {
  BrokerConfig c = test_config(p);
  c.cluster.node = node;
  c.endpoints[1].url = "mailbox:";  // psy pulls
  c.delivery.mailbox_lease = std::chrono::seconds{60};
  return c;
}

// Holds the writer thread until release() (or 10 s, so a failing test cannot hang): jobs
// submitted meanwhile wait, uncommitted.
class WriterGate {
 public:
  explicit WriterGate(GroupCommitWriter& writer) {
    auto opened = open_.get_future().share();
    writer.submit(GroupCommitWriter::Job{
        [opened](Store&) { opened.wait_for(std::chrono::seconds{10}); },
        [](const Result<void>&) {}});
  }
  ~WriterGate() { release(); }
  void release() {
    if (!released_) open_.set_value();
    released_ = true;
  }

 private:
  std::promise<void> open_;
  bool released_ = false;
};

int count_of(const std::vector<std::string>& kinds, const std::string& kind) {
  return static_cast<int>(std::count(kinds.begin(), kinds.end(), kind));
}

class MailboxConfirmTest : public ::testing::Test, protected Parties {
 protected:
  std::shared_ptr<MemoryStore> store = std::make_shared<MemoryStore>();
  std::unique_ptr<BrokerUnderTest> a =
      std::make_unique<BrokerUnderTest>(mailbox_config(*this, "node-a"), store);
  std::unique_ptr<BrokerUnderTest> b;  // a second broker on the same store, when a test wants it

  ~MailboxConfirmTest() override {
    a->broker().stop();
    if (b) b->broker().stop();
    a->settle();
    if (b) b->settle();
    b.reset();
    a.reset();
  }

  // Posts a certificate request to psy (which pulls) and fetches it: its message id.
  std::int64_t fetched_request(const std::string& letter_id) {
    const auto posted =
        a->post(make_certificate_request(jc, psy, "ENV-" + letter_id, letter_id, a->clock.now()));
    EXPECT_EQ(posted.result(), http::status::accepted) << posted.body();
    const auto r = a->get("/v1/mailbox?endpoint=psy");
    EXPECT_EQ(r.result(), http::status::ok) << r.body();
    const auto answer = nlohmann::json::parse(r.body());
    EXPECT_EQ(answer.at("messages").size(), 1u);
    return answer.at("messages").at(0).at("message_id").get<std::int64_t>();
  }
  static std::string confirm_target(std::int64_t id) {
    return "/v1/mailbox/" + std::to_string(id) + "/confirm?endpoint=psy";
  }
  // The two answers, the winner's first; fails the test unless one is 200 and the other 409.
  static std::pair<HttpResponse, HttpResponse> one_wins(const HttpResponse& x,
                                                        const HttpResponse& y) {
    const bool x_won = x.result() == http::status::ok;
    const HttpResponse& won = x_won ? x : y;
    const HttpResponse& lost = x_won ? y : x;
    EXPECT_EQ(won.result(), http::status::ok) << won.body();
    EXPECT_EQ(lost.result(), http::status::conflict) << lost.body();
    return {won, lost};
  }
};

TEST_F(MailboxConfirmTest, TwoConfirmsAtOnceThroughOneBrokerDeliverOnce) {
  const std::int64_t id = fetched_request("REQ-C1");
  std::shared_ptr<std::optional<HttpResponse>> first;
  std::shared_ptr<std::optional<HttpResponse>> second;
  {
    WriterGate gate(*a->writer());
    first = a->start(http::verb::post, confirm_target(id));
    second = a->start(http::verb::post, confirm_target(id));
    a->run_ready();  // both have read the message and wait for their commits
    ASSERT_FALSE(first->has_value() || second->has_value()) << "the writer is held";
  }
  ASSERT_TRUE(a->run_until([&] { return first->has_value() && second->has_value(); }));
  a->settle();
  const auto [won, lost] = one_wins(**first, **second);
  EXPECT_EQ(nlohmann::json::parse(won.body()).at("confirmed").get<std::int64_t>(), id);
  EXPECT_NE(lost.body().find("is delivered"), std::string::npos) << lost.body();
  EXPECT_EQ(count_of(a->timeline_kinds(id), "delivered"), 1);
  const auto m = a->store->get_message(id);
  ASSERT_TRUE(m && *m);
  EXPECT_EQ((*m)->state, DeliveryState::kDelivered);
  EXPECT_EQ((*m)->attempts, 1) << "one confirm counted";
  // The request's deadline opened once, at the winning confirm.
  EXPECT_EQ(count_of(a->timeline_kinds(id), "deadline-opened"), 1);
}

TEST_F(MailboxConfirmTest, TwoConfirmsAtOnceThroughTwoBrokersOnOneStoreDeliverOnce) {
  b = std::make_unique<BrokerUnderTest>(mailbox_config(*this, "node-b"), store, a->writer());
  const std::int64_t id = fetched_request("REQ-C2");
  std::shared_ptr<std::optional<HttpResponse>> via_a;
  std::shared_ptr<std::optional<HttpResponse>> via_b;
  {
    WriterGate gate(*a->writer());
    via_a = a->start(http::verb::post, confirm_target(id));
    via_b = b->start(http::verb::post, confirm_target(id));
    a->run_ready();
    b->run_ready();
    ASSERT_FALSE(via_a->has_value() || via_b->has_value()) << "the writer is held";
  }
  ASSERT_TRUE(a->run_until([&] { return via_a->has_value(); }));
  ASSERT_TRUE(b->run_until([&] { return via_b->has_value(); }));
  a->settle();
  b->settle();
  const auto [won, lost] = one_wins(**via_a, **via_b);
  EXPECT_NE(lost.body().find("is delivered"), std::string::npos) << lost.body();
  EXPECT_EQ(count_of(a->timeline_kinds(id), "delivered"), 1);
  EXPECT_EQ(count_of(a->timeline_kinds(id), "deadline-opened"), 1);
}

// The one that comes after a confirm has committed was already answered 409; it still is.
TEST_F(MailboxConfirmTest, AConfirmAfterTheMessageIsDeliveredIsAConflict) {
  const std::int64_t id = fetched_request("REQ-C3");
  EXPECT_EQ(a->send(http::verb::post, confirm_target(id)).result(), http::status::ok);
  const auto again = a->send(http::verb::post, confirm_target(id));
  EXPECT_EQ(again.result(), http::status::conflict);
  EXPECT_NE(again.body().find("is delivered"), std::string::npos) << again.body();
  EXPECT_EQ(count_of(a->timeline_kinds(id), "delivered"), 1);
}

}  // namespace
}  // namespace sektorbro::testing
