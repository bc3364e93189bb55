// A receipt lands on the version of a letter it names (issue 9, MedCom reliable messaging,
// domain.md §3). A letter keeps its id across the broker's resends (each in a new envelope with
// a new id) and across the sender's corrections (rettetbrev: a new message). A receipt names
// the envelope its writer received, so a receipt naming a resend's envelope — or the envelope
// an older version came in — answers that version, not the letter's newest one.
//
// The drivers against MemoryStore, a scripted transport and a manual clock (broker_under_test).
#include <gtest/gtest.h>

#include "broker/server/answered_message.hpp"
#include "broker/server/tests/broker_under_test.hpp"

namespace sektorbro::testing {
namespace {

class ReceiptVersionTest : public ::testing::Test, protected Parties {
 protected:
  BrokerConfig config = test_config(*this);
  std::unique_ptr<BrokerUnderTest> b = std::make_unique<BrokerUnderTest>(config);

  Envelope request(const std::string& envelope_id) {
    return make_certificate_request(jc, psy, envelope_id, "REQ1", b->clock.now());
  }
  // The message stored for the envelope `envelope_id` jc sent.
  std::optional<MessageRecord> by_envelope(const std::string& envelope_id) {
    MessageFilter f;
    f.envelope_id = envelope_id;
    auto found = b->store->list_messages(f);
    if (!found || found->size() != 1) return std::nullopt;
    return found->front();
  }
  std::optional<MessageRecord> delivered(const std::string& envelope_id) {
    std::optional<MessageRecord> m;
    const bool ok = b->run_until([&] {
      m = by_envelope(envelope_id);
      return m && m->state == DeliveryState::kDelivered;
    });
    b->settle();
    return ok ? by_envelope(envelope_id) : std::nullopt;
  }
  // The envelope id of the last thing the broker sent to psy.
  std::string last_envelope_sent() {
    const auto sent = b->transport.sent();
    if (sent.empty()) return {};
    auto decoded = decode_envelope(sent.back().body);
    return decoded ? decoded->id : std::string();
  }
  // The first version delivered, resent once by the broker in a new envelope (no receipt came),
  // then corrected by jc: returns the resend's envelope id.
  std::string resent_then_corrected() {
    if (b->post(request("ENV-V1")).result() != http::status::accepted) return {};
    if (!delivered("ENV-V1")) return {};
    b->advance(std::chrono::minutes{15});  // psy's receipt time passes: the broker resends
    if (!b->run_until([&] { return b->transport.count() == 2; })) return {};
    const std::string resend = last_envelope_sent();
    Envelope fix = request("ENV-V2");
    fix.letters[0].status = LetterStatus::kCorrected;
    std::get<CertificateRequest>(fix.letters[0].body).questions.push_back("Og en rettelse?");
    if (b->post(fix).result() != http::status::accepted) return {};
    if (!delivered("ENV-V2")) return {};
    return resend;
  }
  ReceiptState receipt_of(const std::string& envelope_id) {
    const auto m = by_envelope(envelope_id);
    return m ? m->receipt : ReceiptState::kNone;
  }
};

TEST_F(ReceiptVersionTest, APositiveReceiptNamingAResendsEnvelopeLandsOnTheVersionResent) {
  const std::string resend = resent_then_corrected();
  ASSERT_FALSE(resend.empty());
  ASSERT_NE(resend, "ENV-V1") << "a resend goes in a new envelope";
  Envelope answered = request(resend);  // what psy received in the resend
  ASSERT_EQ(b->post(make_positive_receipt(answered, "ENV-K1", "K1", b->clock.now())).result(),
            http::status::accepted);
  EXPECT_EQ(receipt_of("ENV-V1"), ReceiptState::kPositive) << "the version the receipt names";
  EXPECT_EQ(receipt_of("ENV-V2"), ReceiptState::kNone) << "not the newest version";
  const auto v1 = by_envelope("ENV-V1");
  ASSERT_TRUE(v1);
  EXPECT_EQ(b->timeline_kinds(v1->id).back(), "receipt");
}

TEST_F(ReceiptVersionTest, ANegativeReceiptNamingAResendsEnvelopeLandsOnTheVersionResent) {
  const std::string resend = resent_then_corrected();
  ASSERT_FALSE(resend.empty());
  Envelope answered = request(resend);
  ASSERT_EQ(b->post(make_negative_receipt(answered, "ENV-K1", "K1", b->clock.now(),
                                          RefuseCode::kUnspecified, "kan ikke behandles"))
                .result(),
            http::status::accepted);
  EXPECT_EQ(receipt_of("ENV-V1"), ReceiptState::kNegative);
  EXPECT_EQ(receipt_of("ENV-V2"), ReceiptState::kNone);
}

TEST_F(ReceiptVersionTest, AReceiptNamingTheOlderVersionsOwnEnvelopeLandsOnIt) {
  ASSERT_FALSE(resent_then_corrected().empty());
  ASSERT_EQ(
      b->post(make_positive_receipt(request("ENV-V1"), "ENV-K1", "K1", b->clock.now())).result(),
      http::status::accepted);
  EXPECT_EQ(receipt_of("ENV-V1"), ReceiptState::kPositive);
  EXPECT_EQ(receipt_of("ENV-V2"), ReceiptState::kNone);
}

TEST_F(ReceiptVersionTest, AReceiptNamingTheNewestVersionsEnvelopeLandsOnIt) {
  ASSERT_FALSE(resent_then_corrected().empty());
  ASSERT_EQ(
      b->post(make_positive_receipt(request("ENV-V2"), "ENV-K1", "K1", b->clock.now())).result(),
      http::status::accepted);
  EXPECT_EQ(receipt_of("ENV-V1"), ReceiptState::kNone);
  EXPECT_EQ(receipt_of("ENV-V2"), ReceiptState::kPositive);
}

TEST_F(ReceiptVersionTest, AResendsEnvelopeIdNamesOnlyTheLetterItCarriedToItsReceiver) {
  // The resend's envelope id does not pin a receipt of another letter, nor one from another
  // endpoint: jc's own "receipt" naming it is not psy's.
  const std::string resend = resent_then_corrected();
  ASSERT_FALSE(resend.empty());
  Envelope other = make_certificate_request(jc, psy, resend, "REQ2", b->clock.now());
  const auto refused = b->post(make_positive_receipt(other, "ENV-K1", "K1", b->clock.now()));
  EXPECT_EQ(refused.result(), http::status::unprocessable_entity) << refused.body();
  EXPECT_NE(refused.body().find("REQ2"), std::string::npos) << refused.body();
  EXPECT_EQ(receipt_of("ENV-V1"), ReceiptState::kNone);
  EXPECT_EQ(receipt_of("ENV-V2"), ReceiptState::kNone);
}

// What the store says about each envelope id a receipt may name (answered_by_envelope, the
// facts the intake core decides on: IntakeFacts::answered), after the same history.
TEST_F(ReceiptVersionTest, TheStoreTellsWhichVersionEachEnvelopeIdCarried) {
  const std::string resend = resent_then_corrected();
  ASSERT_FALSE(resend.empty());
  const auto v1 = by_envelope("ENV-V1");
  const auto v2 = by_envelope("ENV-V2");
  ASSERT_TRUE(v1 && v2);
  auto named = [&](const std::string& envelope_id, const Party& writer) {
    auto a = answered_by_envelope(*b->store, envelope_id, jc.gln, writer.gln, "REQ1");
    return a ? *a : AnsweredMessage{ReceiptMatch::kNamesNoEnvelope, -1};
  };
  EXPECT_EQ(named(resend, psy), (AnsweredMessage{ReceiptMatch::kAnswers, v1->id}));
  EXPECT_EQ(named("ENV-V1", psy), (AnsweredMessage{ReceiptMatch::kAnswers, v1->id}));
  EXPECT_EQ(named("ENV-V2", psy), (AnsweredMessage{ReceiptMatch::kAnswers, v2->id}));
  EXPECT_EQ(named("NOPE1", psy), (AnsweredMessage{ReceiptMatch::kNeverSent, 0}));
  EXPECT_EQ(named(resend, jc), (AnsweredMessage{ReceiptMatch::kNeverSent, 0}))
      << "a resend's id names the message only for the endpoint it went to";
  EXPECT_EQ(named("ukendt", psy), (AnsweredMessage{ReceiptMatch::kNamesNoEnvelope, 0}));

  // And the core, given those facts, refuses a receipt naming an envelope never sent.
  Envelope never = request("NOPE1");
  const Envelope receipt = make_positive_receipt(never, "ENV-K9", "K9", b->clock.now());
  IntakeFacts facts;
  facts.own.resize(receipt.letters.size());
  for (const NamedEnvelope& n : facts_needed(receipt).receipt_envelopes)
    facts.answered.emplace(n.letter, named(n.envelope_id, psy));
  auto where = b->store->find_letter(jc.gln, "REQ1");
  ASSERT_TRUE(where && *where);
  facts.referenced.emplace(LetterKey{jc.gln, "REQ1"}, **where);
  const Directory directory(config.endpoints);
  const WorkingCalendar calendar = calendar_for(config.deadlines.policy);
  const IntakeContext context{directory, config.deadlines.policy, calendar};
  const IntakeDecision d =
      decide_intake(receipt, letters_of(receipt), facts, context, b->clock.now());
  const auto* refused = std::get_if<IntakeRefusal>(&d);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->error.code, Errc::kUnknownReference);
  EXPECT_NE(refused->error.detail.find("NOPE1"), std::string::npos) << refused->error.detail;
}

}  // namespace
}  // namespace sektorbro::testing
