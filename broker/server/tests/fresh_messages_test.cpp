// FreshMessages: what a first delivery attempt needs, kept in memory within a bound that counts
// what the entries hold (issue 8; docs/performance.md, "What a backlog holds in memory").
#include "broker/server/fresh_messages.hpp"

#include <gtest/gtest.h>

#include "broker/codec/codec.hpp"
#include "broker/intake/intake_decision.hpp"
#include "broker/server/tests/broker_under_test.hpp"

namespace sektorbro::testing {
namespace {

class FreshMessagesTest : public ::testing::Test, protected Parties {
 protected:
  const TimePoint now = TimePoint{std::chrono::milliseconds{1'764'000'000'000}};

  // A certificate request whose questions carry `text_bytes` of free text, as Intake plans it.
  Envelope request(const std::string& id, std::size_t text_bytes) {
    Envelope e = make_certificate_request(jc, psy, "ENV-" + id, id, now);
    std::get<CertificateRequest>(e.letters.front().body).questions = {std::string(text_bytes, 'q')};
    return e;
  }
  static MessagePlan plan_of(const Envelope& e) {
    MessagePlan plan;
    NewMessage& m = plan.message;
    m.envelope_id = e.id;
    m.sender_gln = e.letters.front().sender.gln;
    m.receiver_gln = e.letters.front().receiver.gln;
    m.sender_endpoint = "jc";
    m.receiver_endpoint = "psy";
    m.letters = letters_of(e);
    m.body = encode_envelope(e);
    m.acceptance = std::string(600, 'a');
    m.receipt_requested = true;
    m.contains_cpr = true;
    m.received_at = e.sent;
    return plan;
  }
  static std::shared_ptr<const std::vector<Letter>> requests_of(const Envelope& e) {
    return std::make_shared<const std::vector<Letter>>(e.letters);
  }
};

TEST_F(FreshMessagesTest, AnEntryIsTheRecordTheStoreWouldGiveAndIsTakenOnce) {
  const Envelope e = request("REQ1", 100);
  const MessagePlan plan = plan_of(e);
  FreshMessages fresh;
  ASSERT_TRUE(fresh.remember(7, plan, requests_of(e)));
  EXPECT_FALSE(fresh.remember(7, plan, requests_of(e))) << "kept once";
  EXPECT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh.bytes(), FreshMessages::footprint(plan.message, &e.letters));

  auto entry = fresh.take(7);
  ASSERT_TRUE(entry);
  const MessageRecord& r = entry->record;
  EXPECT_EQ(r.id, 7);
  EXPECT_EQ(r.envelope_id, "ENV-REQ1");
  EXPECT_EQ(r.sender_gln, jc.gln);
  EXPECT_EQ(r.receiver_gln, psy.gln);
  EXPECT_EQ(r.sender_endpoint, "jc");
  EXPECT_EQ(r.receiver_endpoint, "psy");
  EXPECT_EQ(r.body, plan.message.body);
  ASSERT_EQ(r.letters.size(), 1u);
  EXPECT_EQ(r.letters.front().letter_id, "REQ1");
  EXPECT_EQ(r.letters.front().content_hash, plan.message.letters.front().content_hash);
  EXPECT_TRUE(r.receipt_requested);
  EXPECT_TRUE(r.contains_cpr);
  EXPECT_EQ(r.received_at, now);
  EXPECT_EQ(r.state, DeliveryState::kPending);
  EXPECT_EQ(r.attempts, 0);
  EXPECT_EQ(r.next_attempt_at, now);
  EXPECT_TRUE(r.acceptance.empty()) << "the acceptance stays with the plan";
  ASSERT_TRUE(entry->requests);
  EXPECT_EQ(*entry->requests, e.letters);

  EXPECT_FALSE(fresh.take(7)) << "taken once";
  EXPECT_EQ(fresh.size(), 0u);
  EXPECT_EQ(fresh.bytes(), 0u);
}

// Before, the bound counted the body alone, and an entry held the whole plan and the decoded
// requests besides: a backlog held ~4 times the bound (performance.md).
TEST_F(FreshMessagesTest, TheBoundCountsTheDecodedRequestsNotOnlyTheBody) {
  const Envelope e = request("REQ1", 20'000);
  const MessagePlan plan = plan_of(e);
  const std::size_t one = FreshMessages::footprint(plan.message, &e.letters);
  EXPECT_GT(one, 2 * plan.message.body.size()) << "the questions are held twice: XML and decoded";

  FreshMessages fresh(3 * one - 1);
  ASSERT_LT(3 * plan.message.body.size(), fresh.limit()) << "three bodies alone would fit";
  EXPECT_TRUE(fresh.remember(1, plan, requests_of(e)));
  EXPECT_TRUE(fresh.remember(2, plan, requests_of(e)));
  EXPECT_FALSE(fresh.remember(3, plan, requests_of(e)));
  EXPECT_EQ(fresh.size(), 2u);
  EXPECT_LE(fresh.bytes(), fresh.limit());

  // A message without requests (a certificate's delivery opens no deadline) counts its body.
  EXPECT_LT(FreshMessages::footprint(plan.message, nullptr), one - plan.message.body.size());

  fresh.forget(1);
  EXPECT_EQ(fresh.bytes(), one);
  EXPECT_TRUE(fresh.remember(3, plan, requests_of(e))) << "room again once one was attempted";
  EXPECT_EQ(fresh.size(), 2u);
}

TEST_F(FreshMessagesTest, NothingIsKeptBeyondABoundOfNothing) {
  const Envelope e = request("REQ1", 10);
  FreshMessages fresh(0);
  EXPECT_FALSE(fresh.remember(1, plan_of(e), requests_of(e)));
  EXPECT_EQ(fresh.size(), 0u);
  EXPECT_FALSE(fresh.take(1));
}

}  // namespace
}  // namespace sektorbro::testing
