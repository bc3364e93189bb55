// validate_envelope: the business rules, each broken once, with its exact detail.
#include "broker/codec/validation.hpp"

#include <gtest/gtest.h>

namespace sektorbro {
namespace {

using namespace std::chrono;

const std::string kLae285 =
    "L\xC3\x86"
    "285";
const std::string kLae125 =
    "L\xC3\x86"
    "125";
const std::string kLae135 =
    "L\xC3\x86"
    "135";

// 2026-11-20 10:00 in Copenhagen (CET, UTC+1).
const TimePoint kNow = TimePoint{sys_days{year{2026} / November / day{20}}} + hours{9};

Date days_after_today(int n) { return Date{sys_days{year{2026} / November / day{20}} + days{n}}; }

Letter letter(LetterBody body) {
  Letter l;
  l.id = "L1";
  l.sender = Party{"5790000123452", "1", "", "", ""};
  l.receiver = Party{"5790000678907", "2", "", "", ""};
  l.patient = Patient{"0101801234"};
  l.body = std::move(body);
  return l;
}

Envelope envelope(std::vector<Letter> letters, bool plus = true) {
  Envelope e;
  e.id = "ENV-1";
  e.sent = kNow;
  e.positive_receipt_requested = plus;
  e.letters = std::move(letters);
  return e;
}

CertificateRequest request(std::string form, std::optional<Date> deadline) {
  return CertificateRequest{std::move(form), "SAG-1", {"?"}, deadline};
}

std::string detail_of(const Result<void>& r) { return r.ok() ? "ok" : r.error().detail; }

TEST(Validation, Lae285DeadlineAtLeastEightDaysOut) {
  EXPECT_EQ(
      detail_of(validate_envelope(envelope({letter(request(kLae285, days_after_today(8)))}), kNow)),
      "ok");
  EXPECT_EQ(detail_of(validate_envelope(envelope({letter(request(kLae285, days_after_today(14)))}),
                                        kNow)),
            "ok");
  EXPECT_EQ(
      detail_of(validate_envelope(envelope({letter(request(kLae285, days_after_today(7)))}), kNow)),
      "Letter[1]/CertificateRequest/ReplyDeadline: L\xC3\x86"
      "285 reply deadline must be "
      "at least 8 days after receipt");
  EXPECT_EQ(detail_of(validate_envelope(envelope({letter(request(kLae285, std::nullopt))}), kNow)),
            "Letter[1]/CertificateRequest/ReplyDeadline: L\xC3\x86"
            "285 requests must set a "
            "reply deadline");
}

TEST(Validation, DaysCountFromTheCopenhagenDate) {
  // 23:30 UTC on 19 November is already 20 November in Copenhagen: 8 days out is 28 November.
  const TimePoint late_evening_utc =
      TimePoint{sys_days{year{2026} / November / day{19}}} + hours{23} + minutes{30};
  const auto e = envelope({letter(request(kLae285, days_after_today(8)))});
  EXPECT_EQ(detail_of(validate_envelope(e, late_evening_utc)), "ok");
  const auto e7 = envelope({letter(request(kLae285, days_after_today(7)))});
  EXPECT_FALSE(validate_envelope(e7, late_evening_utc).ok());
  // Whereas 22:30 UTC on 19 November is still the 19th: 7 days after the 20th is 8 after it.
  const TimePoint evening_utc = late_evening_utc - hours{1};
  EXPECT_EQ(detail_of(validate_envelope(e7, evening_utc)), "ok");
}

TEST(Validation, OnlyLae285SetsADeadlineAndFormsMustBeKnown) {
  EXPECT_EQ(detail_of(validate_envelope(envelope({letter(request(kLae125, std::nullopt))}), kNow)),
            "ok");
  EXPECT_EQ(detail_of(validate_envelope(envelope({letter(request(kLae125, days_after_today(14)))}),
                                        kNow)),
            "Letter[1]/CertificateRequest/ReplyDeadline: the deadline of L\xC3\x86"
            "125 follows "
            "from the agreement; a request must not set one");
  EXPECT_EQ(detail_of(validate_envelope(envelope({letter(request("L\xC3\x86"
                                                                 "999",
                                                                 std::nullopt))}),
                                        kNow)),
            "Letter[1]/CertificateRequest/Form: unknown form");
}

TEST(Validation, CertificateDeclineRules) {
  const auto check = [](Certificate c) {
    return detail_of(validate_envelope(envelope({letter(std::move(c))}), kNow));
  };
  EXPECT_EQ(check({kLae135, "JCA-1", true, "Ikke i behandling her", ""}), "ok");
  EXPECT_EQ(check({kLae125, "JCA-1", false, "", "Tekst"}), "ok");
  EXPECT_EQ(check({kLae125, "JCA-1", true, "Vil ikke", ""}),
            "Letter[1]/Certificate/Declined: L\xC3\x86"
            "125 may not be declined");
  EXPECT_EQ(check({kLae285, "JCA-1", true, "Vil ikke", ""}),
            "Letter[1]/Certificate/Declined: L\xC3\x86"
            "285 may not be declined");
  EXPECT_EQ(check({kLae135, "JCA-1", true, "", ""}),
            "Letter[1]/Certificate/Declined/Reason: a decline needs a reason");
  EXPECT_EQ(check({kLae135, "JCA-1", true, "Nej", "Tekst"}),
            "Letter[1]/Certificate/Declined: a decline carries no text");
  EXPECT_EQ(check({kLae125, "JCA-1", false, "", ""}),
            "Letter[1]/Certificate/Text: must not be empty");
  EXPECT_EQ(check({"LX125", "JCA-1", false, "", "Tekst"}),
            "Letter[1]/Certificate/Form: unknown form");
  EXPECT_EQ(check({kLae125, "", false, "", "Tekst"}),
            "Letter[1]/Certificate/RequestLetterIdentifier: not a valid message identifier");
}

TEST(Validation, DischargeNotBeforeAdmission) {
  const auto check = [](Date admitted, Date discharged) {
    return detail_of(validate_envelope(
        envelope({letter(DischargeNotice{admitted, discharged, true, true, ""})}), kNow));
  };
  EXPECT_EQ(check(days_after_today(0), days_after_today(0)), "ok");
  EXPECT_EQ(check(days_after_today(-30), days_after_today(5)), "ok");
  EXPECT_EQ(check(days_after_today(5), days_after_today(4)),
            "Letter[1]/DischargeNotice/DischargeDate: must not be before AdmissionDate");
}

TEST(Validation, ReferencedIdentifiersAreMessageIds) {
  const auto check = [](LetterBody body) {
    Letter l = letter(std::move(body));
    if (is_receipt(l.type())) l.patient.reset();
    return detail_of(validate_envelope(envelope({l}, !is_receipt(l.type())), kNow));
  };
  EXPECT_EQ(check(MentorResponse{"PSY 1", MentorOutcome::kOffered, "", ""}),
            "Letter[1]/MentorResponse/NoticeLetterIdentifier: not a valid message identifier");
  EXPECT_EQ(check(Reminder{"", LetterType::kCertificate, days_after_today(1), 1, "x"}),
            "Letter[1]/Reminder/OriginalLetterIdentifier: not a valid message identifier");
  EXPECT_EQ(check(Reminder{"A", LetterType::kCertificate, days_after_today(1), 0, "x"}),
            "Letter[1]/Reminder/Step: must be at least 1");
  EXPECT_EQ(check(PositiveReceipt{{"ENV-1", {"A", "way-too-long-identifier"}}}),
            "Letter[1]/PositiveReceipt/OriginalLetterIdentifier[2]: not a valid message "
            "identifier");
  EXPECT_EQ(check(PositiveReceipt{{"ENV-1", {}}}),
            "Letter[1]/PositiveReceipt: a positive receipt names at least one "
            "OriginalLetterIdentifier");
  EXPECT_EQ(
      check(NegativeReceipt{{"ENV/1", {}}, ReceiptLevel::kNetwork, RefuseCode::kSyntaxError, "x"}),
      "Letter[1]/NegativeReceipt/OriginalEnvelopeIdentifier: not a valid message "
      "identifier");
  // A network refusal of an unparseable message may name no letter.
  EXPECT_EQ(
      check(NegativeReceipt{{"ENV-1", {}}, ReceiptLevel::kNetwork, RefuseCode::kSyntaxError, "x"}),
      "ok");
}

TEST(Validation, ReceiptsTravelAloneAndAreNeverReceipted) {
  Letter receipt = letter(PositiveReceipt{{"ENV-0", {"L0"}}});
  receipt.id = "R1";
  receipt.patient.reset();
  const Letter request_letter = letter(request(kLae125, std::nullopt));

  EXPECT_EQ(detail_of(validate_envelope(envelope({receipt}, false), kNow)), "ok");
  EXPECT_EQ(detail_of(validate_envelope(envelope({request_letter, receipt}, false), kNow)),
            "Letter[2]: receipts must not share an envelope with other letters");
  EXPECT_EQ(detail_of(validate_envelope(envelope({receipt, request_letter}, false), kNow)),
            "Letter[2]: receipts must not share an envelope with other letters");
  EXPECT_EQ(detail_of(validate_envelope(envelope({receipt}, true), kNow)),
            "Envelope/AcknowledgementCode: an envelope of receipts must carry minuspositivkvitt");
}

TEST(Validation, ReportsTheLetterPosition) {
  Letter second = letter(request(kLae285, days_after_today(3)));
  second.id = "L2";
  EXPECT_EQ(detail_of(validate_envelope(envelope({letter(request(kLae125, std::nullopt)), second}),
                                        kNow)),
            "Letter[2]/CertificateRequest/ReplyDeadline: L\xC3\x86"
            "285 reply deadline must be "
            "at least 8 days after receipt");
}

}  // namespace
}  // namespace sektorbro
