#include "broker/intake/intake_decision.hpp"

#include <gtest/gtest.h>

#include "broker/codec/codec.hpp"
#include "broker/core/copenhagen_time.hpp"
#include "broker/intake/tests/intake_test_support.hpp"

namespace sektorbro::testing {
namespace {

class IntakeDecisionTest : public ::testing::Test, protected IntakeWorld {
 protected:
  IntakeDecision decide(const Envelope& e, const IntakeFacts& facts,
                        const std::string& authenticated = {}) {
    return decide_intake(e, letters_of(e), facts, context(authenticated), now);
  }
  Envelope request(const std::string& id = "REQ1") {
    return make_certificate_request(jc, psy, "ENV-" + id, id, now);
  }
  static Error refusal(const IntakeDecision& d) {
    const auto* r = std::get_if<IntakeRefusal>(&d);
    return r ? r->error : Error{Errc::kStorage, "not a refusal"};
  }
};

TEST_F(IntakeDecisionTest, ANewRequestBecomesOnePlanWithItsReceivedEvent) {
  const Envelope e = request();
  const IntakeDecision d = decide(e, nothing_stored(e));
  const auto* accept = std::get_if<IntakeAccept>(&d);
  ASSERT_NE(accept, nullptr);
  const MessagePlan& plan = accept->plan;
  EXPECT_EQ(plan.message.sender_endpoint, "jc");
  EXPECT_EQ(plan.message.receiver_endpoint, "psy");
  EXPECT_TRUE(plan.message.contains_cpr);
  EXPECT_TRUE(plan.message.receipt_requested);
  ASSERT_EQ(plan.message.letters.size(), 1u);
  EXPECT_EQ(plan.message.letters[0].letter_id, "REQ1");
  EXPECT_EQ(plan.message.letters[0].content_hash, letters_of(e)[0].content_hash);
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0].kind, "received");
  EXPECT_EQ(plan.events[0].message_id, 0) << "0 names the message the plan stores";
  EXPECT_TRUE(plan.supersedes.empty());
  EXPECT_TRUE(plan.deadlines.empty()) << "a request's clock starts at its delivery";
  EXPECT_NE(plan.message.acceptance.find("ENV-REQ1"), std::string::npos);
}

TEST_F(IntakeDecisionTest, AnUnknownReceiverIsRefusedWithItsOwnCode) {
  Envelope e = request();
  e.letters[0].receiver = make_party("579000099911", "265161000016077", "Ukendt");
  EXPECT_EQ(refusal(decide(e, nothing_stored(e))).code, Errc::kUnknownReceiver);
}

TEST_F(IntakeDecisionTest, TheAuthenticatedEndpointMustBeTheSender) {
  const Envelope e = request();
  EXPECT_EQ(refusal(decide(e, nothing_stored(e), "psy")).code, Errc::kUnknownSender);
  EXPECT_TRUE(std::holds_alternative<IntakeAccept>(decide(e, nothing_stored(e), "jc")));
}

// Issue 12 item 1: the endpoint's GLN with another endpoint's SOR is not that endpoint.
TEST_F(IntakeDecisionTest, ASenderNamingAnotherEndpointsSorIsRefused) {
  Envelope e = request();
  e.letters[0].sender.sor = psy.sor;
  const Error err = refusal(decide(e, nothing_stored(e)));
  EXPECT_EQ(err.code, Errc::kUnknownSender);
  EXPECT_NE(err.detail.find("SOR " + psy.sor), std::string::npos) << err.detail;
  EXPECT_EQ(refusal(decide(e, nothing_stored(e), "jc")).code, Errc::kUnknownSender)
      << "authenticated as jc, still not jc's SOR";
  e.letters[0].sender.sor = jc.sor;
  EXPECT_TRUE(std::holds_alternative<IntakeAccept>(decide(e, nothing_stored(e), "jc")));
}

// Issue 12 item 1: each endpoint sends only what its kind sends — even to a receiver that would
// take anything (here every type is accepted, so only the sender's kind can refuse).
TEST_F(IntakeDecisionTest, EachEndpointSendsOnlyTheLetterTypesOfItsKind) {
  const std::vector<LetterType> all(std::begin(kAllLetterTypes), std::end(kAllLetterTypes));
  const Directory open{{endpoint("jc", jc, EndpointKind::kJobcenter, all),
                        endpoint("psy", psy, EndpointKind::kPsychiatry, all)}};
  const IntakeContext ctx{open, policy, calendar, Dialect::kNative};
  auto decide_open = [&](const Envelope& e) {
    return decide_intake(e, letters_of(e), nothing_stored(e), ctx, now);
  };
  const Date discharge = copenhagen_date(now);
  // A psychiatry unit may not request a certificate (a deadline owed to itself) nor answer a
  // notice; a jobcenter may not certify nor notify a discharge.
  const std::vector<Envelope> wrong = {
      make_certificate_request(psy, jc, "ENV-W1", "W1", now),
      make_mentor_response(psy, jc, "ENV-W2", "W2", "N1", now),
      make_certificate(jc, psy, "ENV-W3", "W3", "R1", now),
      make_discharge_notice(jc, psy, "ENV-W4", "W4", now, discharge),
  };
  for (const Envelope& e : wrong) {
    const Error err = refusal(decide_open(e));
    EXPECT_EQ(err.code, Errc::kUnknownSender) << e.id << ": " << err.detail;
    EXPECT_NE(err.detail.find("endpoint does not send"), std::string::npos) << err.detail;
  }
  // The right kinds pass this check (the request and the notice are accepted outright).
  EXPECT_TRUE(std::holds_alternative<IntakeAccept>(
      decide_open(make_certificate_request(jc, psy, "ENV-R1", "R1", now))));
  EXPECT_TRUE(std::holds_alternative<IntakeAccept>(decide_open(
      make_discharge_notice(psy, jc, "ENV-N1", "N1", now,
                            Date{std::chrono::sys_days{discharge} + std::chrono::days{10}}))));
  for (EndpointKind kind : {EndpointKind::kJobcenter, EndpointKind::kPsychiatry}) {
    EXPECT_TRUE(kind_sends(kind, LetterType::kCorrespondence));
    EXPECT_TRUE(kind_sends(kind, LetterType::kPositiveReceipt));
    EXPECT_TRUE(kind_sends(kind, LetterType::kNegativeReceipt));
    EXPECT_FALSE(kind_sends(kind, LetterType::kReminder));
  }
}

TEST_F(IntakeDecisionTest, ALetterIdTwiceInOneEnvelopeIsRefused) {
  Envelope e = request();
  e.letters.push_back(e.letters[0]);
  const Error err = refusal(decide(e, nothing_stored(e)));
  EXPECT_EQ(err.code, Errc::kInvalid);
  EXPECT_NE(err.detail.find("twice"), std::string::npos);
}

// Both ways of comparing ids (pairwise for a few letters, a set beyond 32) name the first letter
// whose id came before.
TEST_F(IntakeDecisionTest, TheFirstRepeatedLetterIdIsNamedForFewAndManyLetters) {
  for (const std::size_t count : {std::size_t{3}, std::size_t{40}}) {
    Envelope e = request("R0");
    const Letter first = e.letters[0];
    for (std::size_t i = 1; i < count; ++i) {
      e.letters.push_back(first);
      e.letters.back().id = "R" + std::to_string(i);
    }
    e.letters[count - 1].id = "R1";  // repeats the second letter's id
    const Error err = refusal(decide(e, nothing_stored(e)));
    EXPECT_EQ(err.code, Errc::kInvalid) << count;
    EXPECT_EQ(err.detail, "letter id R1 appears twice in the envelope") << count;
    e.letters[count - 1].id = "R" + std::to_string(count - 1);
    const IntakeDecision unique = decide(e, nothing_stored(e));
    EXPECT_NE(std::get_if<IntakeAccept>(&unique), nullptr) << count;
  }
}

// The shell hands the decision the body it encoded on its codec thread: an accept plan stores
// exactly that; without one the decision encodes the envelope itself, to the same bytes.
TEST_F(IntakeDecisionTest, AnAcceptPlanStoresTheCanonicalBodyItIsGiven) {
  const Envelope e = request();
  const IntakeDecision encoded_here = decide(e, nothing_stored(e));
  ASSERT_NE(std::get_if<IntakeAccept>(&encoded_here), nullptr);
  EXPECT_EQ(std::get<IntakeAccept>(encoded_here).plan.message.body, encode_envelope(e));
  const IntakeDecision given = decide_intake(e, letters_of(e), nothing_stored(e), context({}), now,
                                             "<the body the shell encoded/>");
  ASSERT_NE(std::get_if<IntakeAccept>(&given), nullptr);
  EXPECT_EQ(std::get<IntakeAccept>(given).plan.message.body, "<the body the shell encoded/>");
}

TEST_F(IntakeDecisionTest, AnIdenticalResendIsAnsweredAsTheFirst) {
  const Envelope e = request();
  IntakeFacts facts = nothing_stored(e);
  facts.own[0].latest = LetterLocation{42, LetterType::kCertificateRequest,
                                       letters_of(e)[0].content_hash, psy.gln, LetterStatus::kNew};
  const IntakeDecision d = decide(e, facts);
  const auto* dup = std::get_if<IntakeDuplicate>(&d);
  ASSERT_NE(dup, nullptr);
  EXPECT_EQ(dup->original_message_id, 42);
  EXPECT_EQ(dup->event.kind, "duplicate");
  EXPECT_EQ(dup->event.message_id, 42);
}

TEST_F(IntakeDecisionTest, AReusedIdForOtherContentIsAConflict) {
  const Envelope e = request();
  IntakeFacts facts = nothing_stored(e);
  facts.own[0].latest = LetterLocation{42, LetterType::kCertificateRequest, "another hash", psy.gln,
                                       LetterStatus::kNew};
  EXPECT_EQ(refusal(decide(e, facts)).code, Errc::kDuplicateConflict);
}

TEST_F(IntakeDecisionTest, ACorrectionSupersedesAndTellsTheOldMessage) {
  Envelope e = request();
  e.letters[0].status = LetterStatus::kCorrected;
  IntakeFacts facts = nothing_stored(e);
  facts.own[0].latest =
      LetterLocation{42, LetterType::kCertificateRequest, "old hash", psy.gln, LetterStatus::kNew};
  const IntakeDecision d = decide(e, facts);
  const auto* accept = std::get_if<IntakeAccept>(&d);
  ASSERT_NE(accept, nullptr);
  ASSERT_EQ(accept->plan.supersedes.size(), 1u);
  EXPECT_EQ(accept->plan.supersedes[0].old_message_id, 42);
  EXPECT_EQ(accept->plan.supersedes[0].old_content_hash, "old hash");
  ASSERT_EQ(accept->plan.events.size(), 2u);
  EXPECT_EQ(accept->plan.events[1].kind, "superseded");
  EXPECT_EQ(accept->plan.events[1].message_id, 42);
  EXPECT_EQ(accept->plan.events[1].detail, "by envelope ENV-REQ1, rettetbrev");
}

TEST_F(IntakeDecisionTest, ACertificateMustAnswerARequestSentToItsSender) {
  const Envelope cert = make_certificate(psy, jc, "ENV-C1", "C1", "REQ1", now);
  EXPECT_EQ(refusal(decide(cert, nothing_stored(cert))).code, Errc::kUnknownReference);

  IntakeFacts facts = nothing_stored(cert);
  // Sent by the jobcenter, but to someone else.
  facts.referenced[{jc.gln, "REQ1"}] =
      LetterLocation{5, LetterType::kCertificateRequest, "h", "5790000999990", LetterStatus::kNew};
  EXPECT_EQ(refusal(decide(cert, facts)).code, Errc::kUnknownReference);
  // A discharge notice is not a request.
  facts.referenced[{jc.gln, "REQ1"}] =
      LetterLocation{5, LetterType::kDischargeNotice, "h", psy.gln, LetterStatus::kNew};
  EXPECT_EQ(refusal(decide(cert, facts)).code, Errc::kUnknownReference);
}

TEST_F(IntakeDecisionTest, ACertificateAnswersTheOpenDeadlineOnlyIfItIsStillOpen) {
  const Envelope req = request();
  auto opened = open_certificate_deadline(req.letters[0], now - std::chrono::hours{24 * 3},
                                          DeadlineParties{"psy", "jc"}, policy, calendar);
  ASSERT_TRUE(opened && opened->has_value());
  const Envelope cert = make_certificate(psy, jc, "ENV-C1", "C1", "REQ1", now);
  const FactsNeeded needed = facts_needed(cert);
  ASSERT_EQ(needed.referenced.size(), 1u);
  EXPECT_EQ(needed.referenced[0], (LetterKey{jc.gln, "REQ1"}));
  ASSERT_EQ(needed.deadlines.size(), 1u);
  EXPECT_EQ(needed.deadlines[0], (**opened).key);

  IntakeFacts facts = nothing_stored(cert);
  facts.referenced[{jc.gln, "REQ1"}] =
      LetterLocation{5, LetterType::kCertificateRequest, "h", psy.gln, LetterStatus::kNew};
  facts.deadlines[(**opened).key] = **opened;
  const IntakeDecision d = decide(cert, facts);
  const auto* accept = std::get_if<IntakeAccept>(&d);
  ASSERT_NE(accept, nullptr);
  ASSERT_EQ(accept->plan.deadlines.size(), 1u);
  const DeadlineWrite& w = accept->plan.deadlines[0];
  EXPECT_EQ(w.deadline.state, DeadlineState::kAnsweredOnTime);
  EXPECT_EQ(w.message_id, 5) << "the answer goes on the request's timeline";
  EXPECT_EQ(w.event.kind, "deadline-answered");
  EXPECT_TRUE(w.expect_open) << "two replies racing must not both be written";

  // Answered already: a second reply is refused.
  facts.deadlines[(**opened).key] = w.deadline;
  const Envelope again = make_certificate(psy, jc, "ENV-C2", "C2", "REQ1", now);
  EXPECT_EQ(refusal(decide(again, facts)).code, Errc::kConflict);
}

TEST_F(IntakeDecisionTest, AReceiptMarksTheLettersItNames) {
  const Envelope req = request();
  const Envelope receipt = make_positive_receipt(req, "ENV-K1", "K1", now);
  IntakeFacts facts = nothing_stored(receipt);
  facts.referenced[{jc.gln, "REQ1"}] =
      LetterLocation{5, LetterType::kCertificateRequest, "h", psy.gln, LetterStatus::kNew};
  const IntakeDecision d = decide(receipt, facts);
  const auto* accept = std::get_if<IntakeAccept>(&d);
  ASSERT_NE(accept, nullptr);
  ASSERT_EQ(accept->plan.receipts.size(), 1u);
  EXPECT_EQ(accept->plan.receipts[0].message_id, 5);
  EXPECT_EQ(accept->plan.receipts[0].state, ReceiptState::kPositive);
  EXPECT_EQ(accept->plan.message.receiver_endpoint, "jc");
}

// Issue 9: a receipt that names a resend's envelope (or an older version's) lands on that
// version, not on the letter's latest one.
TEST_F(IntakeDecisionTest, AReceiptLandsOnTheVersionTheEnvelopeItNamesCarried) {
  Envelope resent = request();
  resent.id = "B77";  // the broker's resend of the first version
  const Envelope receipt = make_negative_receipt(resent, "ENV-K1", "K1", now,
                                                 RefuseCode::kUnspecified, "kan ikke behandles");
  const FactsNeeded needed = facts_needed(receipt);
  ASSERT_EQ(needed.receipt_envelopes.size(), 1u);
  EXPECT_EQ(needed.receipt_envelopes[0].envelope_id, "B77");
  EXPECT_EQ(needed.receipt_envelopes[0].letter, (LetterKey{jc.gln, "REQ1"}));
  IntakeFacts facts = nothing_stored(receipt);
  // The latest version is #9 (a correction); the resend carried #5.
  facts.referenced[{jc.gln, "REQ1"}] =
      LetterLocation{9, LetterType::kCertificateRequest, "h2", psy.gln, LetterStatus::kCorrected};
  facts.answered[{jc.gln, "REQ1"}] = AnsweredMessage{ReceiptMatch::kAnswers, 5};
  const IntakeDecision d = decide(receipt, facts);
  const auto* accept = std::get_if<IntakeAccept>(&d);
  ASSERT_NE(accept, nullptr) << refusal(d).detail;
  ASSERT_EQ(accept->plan.receipts.size(), 1u);
  EXPECT_EQ(accept->plan.receipts[0].message_id, 5);
  EXPECT_EQ(accept->plan.receipts[0].state, ReceiptState::kNegative);
  EXPECT_EQ(accept->plan.receipts[0].event.message_id, 5);
}

TEST_F(IntakeDecisionTest, AReceiptNamingAnEnvelopeThatNeverCarriedTheLetterIsRefused) {
  Envelope never = request();
  never.id = "NOPE1";
  const Envelope receipt = make_positive_receipt(never, "ENV-K1", "K1", now);
  IntakeFacts facts = nothing_stored(receipt);
  facts.referenced[{jc.gln, "REQ1"}] =
      LetterLocation{5, LetterType::kCertificateRequest, "h", psy.gln, LetterStatus::kNew};
  facts.answered[{jc.gln, "REQ1"}] = AnsweredMessage{ReceiptMatch::kNeverSent, 0};
  const Error e = refusal(decide(receipt, facts));
  EXPECT_EQ(e.code, Errc::kUnknownReference);
  EXPECT_NE(e.detail.find("NOPE1"), std::string::npos) << e.detail;
  EXPECT_NE(e.detail.find("REQ1"), std::string::npos) << e.detail;
  // Without the envelope's facts, or naming none ("ukendt": a FHIR Acknowledgement), the
  // letter's latest version answers, as before.
  facts.answered.clear();
  EXPECT_TRUE(std::holds_alternative<IntakeAccept>(decide(receipt, facts)));
  never.id = "ukendt";
  const Envelope unnamed = make_positive_receipt(never, "ENV-K2", "K2", now);
  EXPECT_TRUE(facts_needed(unnamed).receipt_envelopes.empty());
}

TEST_F(IntakeDecisionTest, ADischargeNoticeOpensTheMentorDeadlineAndALateOneAlerts) {
  const Date yesterday{std::chrono::sys_days{copenhagen_date(now)} - std::chrono::days{1}};
  const Envelope notice = make_discharge_notice(psy, jc, "ENV-N1", "N1", now, yesterday);
  const IntakeDecision d = decide(notice, nothing_stored(notice));
  const auto* accept = std::get_if<IntakeAccept>(&d);
  ASSERT_NE(accept, nullptr);
  ASSERT_EQ(accept->plan.deadlines.size(), 1u);
  EXPECT_EQ(accept->plan.deadlines[0].deadline.kind, DeadlineKind::kMentorResponse);
  EXPECT_EQ(accept->plan.deadlines[0].deadline.owed_by, "jc");
  EXPECT_EQ(accept->plan.deadlines[0].message_id, 0);
  EXPECT_TRUE(accept->plan.deadlines[0].deadline.notice_late);
  ASSERT_EQ(accept->alerts.size(), 1u);
  EXPECT_NE(accept->alerts[0].find("late discharge notice"), std::string::npos);
}

}  // namespace
}  // namespace sektorbro::testing
