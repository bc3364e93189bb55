#include "broker/intake/receipt_match.hpp"

#include <gtest/gtest.h>

namespace sektorbro::testing {
namespace {

constexpr const char* kJc = "579000012345";
constexpr const char* kPsy = "579000054321";

MessageRecord message(std::int64_t id, const std::string& envelope_id, const char* from,
                      const char* to, std::vector<std::string> letter_ids) {
  MessageRecord m;
  m.id = id;
  m.envelope_id = envelope_id;
  m.sender_gln = from;
  m.receiver_gln = to;
  for (auto& l : letter_ids)
    m.letters.push_back(NewLetter{l, LetterType::kCertificateRequest, "h", LetterStatus::kNew});
  return m;
}

AnsweredMessage answers(std::int64_t id) { return {ReceiptMatch::kAnswers, id}; }
const AnsweredMessage kNeverSent{ReceiptMatch::kNeverSent, 0};

TEST(ReceiptMatch, AResendsEnvelopeNamesTheMessageResentNotTheLettersNewestVersion) {
  // REQ1 came as #1 (ENV-V1), the broker resent #1 in B77, then jc corrected it as #2 (ENV-V2).
  ReceiptCandidates c;
  c.resent_in = message(1, "ENV-V1", kJc, kPsy, {"REQ1"});
  EXPECT_EQ(answered_among(c, "B77", kJc, kPsy, "REQ1"), answers(1));
}

TEST(ReceiptMatch, AnEnvelopeAsItsSenderSentItNamesThatVersion) {
  ReceiptCandidates c;
  c.received_in = {message(1, "ENV-V1", kJc, kPsy, {"REQ1"})};
  EXPECT_EQ(answered_among(c, "ENV-V1", kJc, kPsy, "REQ1"), answers(1));
}

TEST(ReceiptMatch, OnlyAMessageThatCarriedTheLetterToTheReceiptsWriterIsAnswered) {
  ReceiptCandidates c;
  c.received_in = {message(3, "E", kPsy, kJc, {"REQ1"}),         // the other way round
                   message(4, "E", kJc, kPsy, {"REQ2"})};        // another letter
  c.resent_in = message(5, "F", kJc, "579000011111", {"REQ1"});  // to another receiver
  EXPECT_EQ(answered_among(c, "E", kJc, kPsy, "REQ1"), kNeverSent);
  c.received_in.push_back(message(6, "E", kJc, kPsy, {"REQ2", "REQ1"}));
  EXPECT_EQ(answered_among(c, "E", kJc, kPsy, "REQ1"), answers(6));
}

TEST(ReceiptMatch, AnEnvelopeTheBrokerNeverSentTheLetterInIsSaidSo) {
  EXPECT_EQ(answered_among(ReceiptCandidates{}, "NOPE", kJc, kPsy, "REQ1"), kNeverSent);
}

TEST(ReceiptMatch, NoEnvelopeNamedMeansTheLetterAlone) {
  ReceiptCandidates c;
  c.received_in = {message(1, "ukendt", kJc, kPsy, {"REQ1"})};
  const AnsweredMessage by_letter{ReceiptMatch::kNamesNoEnvelope, 0};
  EXPECT_EQ(answered_among(c, "ukendt", kJc, kPsy, "REQ1"), by_letter);
  EXPECT_EQ(answered_among(c, "", kJc, kPsy, "REQ1"), by_letter);
  EXPECT_FALSE(names_an_envelope("ukendt"));
  EXPECT_TRUE(names_an_envelope("ENV-V1"));
}

TEST(ReceiptMatch, AResendKeyIsPerReceiver) {
  EXPECT_NE(resend_envelope_key(kJc, "B77"), resend_envelope_key(kPsy, "B77"));
  EXPECT_NE(resend_envelope_key(kJc, "B77"), resend_envelope_key(kJc, "B78"));
}

}  // namespace
}  // namespace sektorbro::testing
