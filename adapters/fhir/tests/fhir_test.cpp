#include <gtest/gtest.h>

#include "adapters/common/tests/sample_files.hpp"
#include "adapters/fhir/fhir_acknowledgement.hpp"
#include "adapters/fhir/fhir_receipts.hpp"

namespace sektorbro::adapters {
namespace {

TimePoint ts(std::string_view s) { return *parse_timestamp(s); }

FhirAcknowledgement sample_ack() {
  auto r = parse_fhir_acknowledgement(testing::read_sample(testing::kFhirAckOk));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().detail);
  return r.ok() ? *r : FhirAcknowledgement{};
}

const ReceiptReference kOriginal{"ENV-1", {"L-1"}};

TEST(FhirAck, ReadsMedComsOkSample) {
  const FhirAcknowledgement a = sample_ack();
  EXPECT_EQ(a.bundle_id, "e90e15ae-e019-496b-aa65-95aab4983f0d");
  EXPECT_EQ(a.timestamp, ts("2023-11-22T12:33:00Z"));
  EXPECT_EQ(a.header_id, "ec45ab9f-f918-42e3-9536-f6c00fbb8b1e");
  EXPECT_EQ(a.response_identifier, "60098c38-6fe1-41ba-aa92-d4809022de88");
  EXPECT_EQ(a.code, FhirAckCode::kOk);
  EXPECT_EQ(a.sender, (FhirOrganization{"5790000121441", "328051000016008"}));
  EXPECT_EQ(a.receiver, (FhirOrganization{"5790001382445", "359001000016000"}));
  EXPECT_EQ(a.source_endpoint, "https://sor2.sum.dsdn.dk/#id=328051000016008");
  EXPECT_EQ(a.destination_endpoint, "https://sor2.sum.dsdn.dk/#id=359001000016000");
  EXPECT_TRUE(a.issues.empty());
}

TEST(FhirAck, RoundTrips) {
  FhirAcknowledgement a = sample_ack();
  auto back = parse_fhir_acknowledgement(write_fhir_acknowledgement(a));
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(*back, a);
  a.code = FhirAckCode::kFatalError;
  a.issues = {{"error", "not-found", std::string(kAckErrorCodeSystem),
               "MSG_Receiver_Identifier_UNKNOWN", "Ukendt modtager"},
              {"warning", "duplicate", "", "MSG_DUPLICATE_ID", ""}};
  const std::string bytes = write_fhir_acknowledgement(a);
  back = parse_fhir_acknowledgement(bytes);
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(*back, a);
  EXPECT_EQ(write_fhir_acknowledgement(*back), bytes);
}

TEST(FhirAck, SampleToNativePositiveAndBack) {
  const FhirAcknowledgement a = sample_ack();
  auto n = ack_to_native(a, kOriginal, "ACK-1");
  ASSERT_TRUE(n.ok()) << n.error().detail;
  EXPECT_EQ(n->outcome, AckOutcome::kPositive);
  ASSERT_TRUE(n->receipt.has_value());
  EXPECT_EQ(std::get<PositiveReceipt>(n->receipt->body).original, kOriginal);
  EXPECT_EQ(n->receipt->sender.gln, "5790000121441");
  EXPECT_EQ(n->receipt->sender.sor, "328051000016008");
  EXPECT_EQ(n->receipt->authorised, a.timestamp);
  auto again =
      ack_from_native(*n->receipt, {a.bundle_id, a.header_id, a.timestamp, a.response_identifier,
                                    a.source_endpoint, a.destination_endpoint});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, a);
}

TEST(FhirAck, EveryRefuseCodeRoundTripsThroughFatalError) {
  for (auto code :
       {RefuseCode::kUnspecified, RefuseCode::kUnknownLocation, RefuseCode::kReceiverIdProblem,
        RefuseCode::kVersionProblem, RefuseCode::kSyntaxError}) {
    Letter r;
    r.id = "NR-1";
    r.sender.gln = "5790000121441";
    r.receiver.gln = "5790001382445";
    r.body = NegativeReceipt{kOriginal, ReceiptLevel::kApplication, code, "Afvist: årsag"};
    auto a = ack_from_native(r, {"b1", "h1", ts("2026-01-01T10:00:00Z"), "orig-1", "x", "y"});
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->code, FhirAckCode::kFatalError);
    auto parsed = parse_fhir_acknowledgement(write_fhir_acknowledgement(*a));
    ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
    auto n = ack_to_native(*parsed, kOriginal, "NR-1");
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(n->outcome, AckOutcome::kNegative);
    EXPECT_EQ(std::get<NegativeReceipt>(n->receipt->body), std::get<NegativeReceipt>(r.body));
  }
}

TEST(FhirAck, IssueCodesMapToRefuseCodes) {
  EXPECT_EQ(refuse_code_for_issue("MSG_Receiver_Identifier_UNKNOWN"), RefuseCode::kUnknownLocation);
  EXPECT_EQ(refuse_code_for_issue("msg_receiver_identifier_unknown"), RefuseCode::kUnknownLocation);
  EXPECT_EQ(refuse_code_for_issue("MSG_Receiver_Identifier_MISSING"),
            RefuseCode::kReceiverIdProblem);
  EXPECT_EQ(refuse_code_for_issue("MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE"),
            RefuseCode::kVersionProblem);
  EXPECT_EQ(refuse_code_for_issue("MSG_BAD_SYNTAX"), RefuseCode::kSyntaxError);
  EXPECT_EQ(refuse_code_for_issue("MSG_VALUESET_VALUE_UNKNOWN"), RefuseCode::kSyntaxError);
  EXPECT_EQ(refuse_code_for_issue("MSG_DUPLICATE_ID"), RefuseCode::kUnspecified);
  EXPECT_EQ(refuse_code_for_issue(""), RefuseCode::kUnspecified);

  FhirAcknowledgement a = sample_ack();
  a.code = FhirAckCode::kFatalError;
  a.issues = {{"error", "duplicate", "", "MSG_DUPLICATE_ID", ""},
              {"error", "structure", "", "MSG_BAD_SYNTAX", "cpr 0101010227 i tekst"}};
  auto n =
      ack_to_native(*parse_fhir_acknowledgement(write_fhir_acknowledgement(a)), kOriginal, "NR");
  ASSERT_TRUE(n.ok());
  const auto& neg = std::get<NegativeReceipt>(n->receipt->body);
  EXPECT_EQ(neg.code, RefuseCode::kUnspecified);  // the first coded issue decides
  EXPECT_EQ(neg.text, "cpr ********** i tekst");
}

TEST(FhirAck, TransientErrorIsItsOwnOutcome) {
  Party s, r;
  s.gln = "5790000121441";
  r.gln = "5790001382445";
  FhirAcknowledgement a = make_transient_ack(
      {"b2", "h2", ts("2026-01-01T10:00:00Z"), "orig-2", "x", "y"}, s, r, "Postkasse lukket");
  auto parsed = parse_fhir_acknowledgement(write_fhir_acknowledgement(a));
  ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
  EXPECT_EQ(*parsed, a);
  EXPECT_EQ(parsed->code, FhirAckCode::kTransientError);
  auto n = ack_to_native(*parsed, kOriginal, "");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->outcome, AckOutcome::kTransient);
  EXPECT_FALSE(n->receipt.has_value());
  EXPECT_EQ(n->transient_reason, "Postkasse lukket");
}

std::string replace(std::string s, std::string_view from, std::string_view to) {
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(FhirAck, ErrorsNameThePath) {
  const std::string good = testing::read_sample(testing::kFhirAckOk);
  const std::string h = "Bundle/entry[1]/MessageHeader";
  const std::pair<std::string, std::string> cases[] = {
      {replace(good, "<code value=\"ok\"/>", "<code value=\"0101010227\"/>"),
       h + "/response/code: expected ok, transient-error or fatal-error"},
      {replace(good, "<code value=\"acknowledgement-message\"/>", "<code value=\"x\"/>"),
       h + "/eventCoding/code: expected acknowledgement-message"},
      {replace(good, "<type value=\"message\"/>", "<type value=\"document\"/>"),
       "Bundle/type: expected message"},
      {replace(good, "<timestamp value=\"2023-11-22T12:33:00Z\"/>",
               "<timestamp value=\"2023-11-22T12:33:00\"/>"),
       "Bundle/timestamp: expected a dateTime with a zone"},
      {replace(good, "<identifier value=\"60098c38-6fe1-41ba-aa92-d4809022de88\"/>", ""),
       h + "/response/identifier: missing"},
      {replace(good,
               "value=\"Organization/b06fe483-2c9d-4086-8fb5-99a87785bbb1\"/>\n        </sender>",
               "value=\"Organization/none\"/>\n        </sender>"),
       h + "/sender/reference: does not resolve to an Organization entry"},
      {replace(good, "<code value=\"ok\"/>", "<code value=\"fatal-error\"/>"),
       h + "/response/details: an error acknowledgement needs an issue"},
  };
  for (const auto& [bytes, detail] : cases) {
    auto r = parse_fhir_acknowledgement(bytes);
    ASSERT_FALSE(r.ok()) << detail;
    EXPECT_EQ(r.error().code, Errc::kInvalid);
    EXPECT_EQ(r.error().detail, detail);
  }
  EXPECT_EQ(parse_fhir_acknowledgement("<!DOCTYPE Bundle><Bundle/>").error().code,
            Errc::kMalformed);
  EXPECT_EQ(parse_fhir_acknowledgement("<Bundle/>").error().detail,
            "root element is not a FHIR Bundle");
}

}  // namespace
}  // namespace sektorbro::adapters
