#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "broker/xml/text_encoding.hpp"
#include "adapters/common/tests/sample_files.hpp"
#include "broker/xml/xml_document.hpp"
#include "adapters/sbdh/sbdh_document.hpp"
#include "adapters/sbdh/sbdh_native.hpp"
#include "adapters/sbdh/sbdh_receipts.hpp"
#include "broker/codec/codec.hpp"

namespace sektorbro::adapters {
namespace {

TimePoint ts(std::string_view s) { return *parse_timestamp(s); }

SbdhDocument sample(const char* name) {
  auto r = parse_sbdh(testing::read_sample(name));
  EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : r.error().detail);
  return r.ok() ? std::move(*r) : SbdhDocument{};
}

// The Scope/Type values of a written or sample document, in order.
std::vector<std::string> scope_types(std::string_view bytes) {
  auto d = decode_document(bytes);
  auto t = parse_xml_document(d->utf8);
  std::vector<std::string> out;
  const XmlNode* scopes = t->child(kSbdhNamespace, "StandardBusinessDocumentHeader")
                              ->child(kSbdhNamespace, "BusinessScope");
  for (const XmlNode* s : scopes->all(kSbdhNamespace, "Scope"))
    out.emplace_back(trim_space(s->child(kSbdhNamespace, "Type")->text));
  return out;
}

TEST(Sbdh, UnwrapsTheEhmiSample) {
  const SbdhDocument d = sample(testing::kSbdhFull);
  EXPECT_EQ(d.sender_gln, "5790000121526");
  EXPECT_EQ(d.receiver_gln, "5790000201389");
  EXPECT_EQ(d.standard, "homecareobservation-message");
  EXPECT_EQ(d.type_version, "1.2");
  EXPECT_EQ(d.instance_id, "9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc");
  EXPECT_EQ(d.type, "Bundle");
  EXPECT_FALSE(d.multiple_type);
  EXPECT_EQ(d.created, ts("2025-04-01T15:19:00Z"));
  EXPECT_EQ(d.document_id,
            "urn:dk:healthcare:medcom:messaging:fhir:structuredefinition::homecareobservation-"
            "message##urn:dk:medcom:fhir:homecareobservation-message::1.2");
  EXPECT_EQ(d.process_id, "urn:ehmi:sdn-emergence");
  EXPECT_EQ(d.patient_id, "0101010227");
  EXPECT_EQ(d.sender_sor, "8851000016006");
  EXPECT_EQ(d.receiver_sor, "263001000016001");
  EXPECT_EQ(d.message_id, "f06c1ac8-6096-5178-a380-2831d2456986");
  EXPECT_EQ(d.message_envelope_id, "f06c1ac8-6096-5178-a380-2831d2456986");
  EXPECT_EQ(d.statistical_information, "MCM:homecareobservation-message");
  EXPECT_EQ(d.receipt.kind, SbdhAckScope::kRequest);
  EXPECT_EQ(d.receipt.time_to_acknowledge, std::chrono::minutes(10));
  EXPECT_EQ(d.receipt.requesting_document_created, ts("2021-02-17T09:30:10+01:00"));
  EXPECT_EQ(d.receipt.expected_response, ts("2021-02-17T09:40:10+01:00"));
  EXPECT_EQ(d.receipt.requesting_document_id, "9a6ff82208de-5a6f-9670-9fa4b9d2f0dh");
  EXPECT_TRUE(d.other_scopes.empty());
  EXPECT_EQ(d.mime_type, "application/fhir+xml");
  EXPECT_EQ(d.content_encoding, "UTF-8");
  EXPECT_TRUE(d.payload.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
  EXPECT_NE(d.payload.find("<Bundle xmlns=\"http://hl7.org/fhir\">"), std::string::npos);
  EXPECT_TRUE(d.payload.ends_with("</Bundle>"));
  EXPECT_FALSE(is_envelope_receipt(d));
}

TEST(Sbdh, ReadsTheReceiptAcknowledgementSampleAndItsSignal) {
  const SbdhDocument d = sample(testing::kSbdhReceiptAck);
  EXPECT_TRUE(is_envelope_receipt(d));
  EXPECT_EQ(d.type, "ReceiptAcknowledgement");
  EXPECT_EQ(d.sender_gln, "5790000127092");
  EXPECT_EQ(d.receiver_gln, "5790000123117");
  EXPECT_EQ(d.original_message_id, "489de4f2-0d8d-4de2-a7ce-ccb93568799f");
  EXPECT_EQ(d.original_message_envelope_id, "401cbc36-db1e-4fe0-bf90-6df331dde179");
  EXPECT_EQ(d.original_message_standard, "homecareobservation-message");
  EXPECT_EQ(d.original_message_version, "1.0");
  EXPECT_EQ(d.original_envelope_id, "9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc");
  EXPECT_EQ(d.receipt.kind, SbdhAckScope::kResponse);
  EXPECT_EQ(d.mime_type, "application/xml");
  auto s = read_signal(d);
  ASSERT_TRUE(s.ok()) << s.error().detail;
  EXPECT_FALSE(s->exception);
  EXPECT_EQ(s->original_message_id, "489de4f2-0d8d-4de2-a7ce-ccb93568799f");
  EXPECT_EQ(s->from_gln, "5790000127092");
  EXPECT_EQ(s->to_gln, "5790000123117");
  EXPECT_EQ(s->this_message_time, ts("2025-04-01T16:20:00+01:00"));
  EXPECT_EQ(s->collaboration_id, "489de4f2-0d8d-4de2-a7ce-ccb93568799f");
}

TEST(Sbdh, SamplesRoundTrip) {
  for (const char* name : {testing::kSbdhFull, testing::kSbdhReceiptAck}) {
    const SbdhDocument d = sample(name);
    const std::string bytes = write_sbdh(d);
    auto back = parse_sbdh(bytes);
    ASSERT_TRUE(back.ok()) << name << ": " << back.error().detail;
    EXPECT_EQ(*back, d) << name;
    EXPECT_EQ(write_sbdh(*back), bytes);
    EXPECT_EQ(scope_types(bytes), scope_types(testing::read_sample(name))) << name;
  }
}

TEST(Sbdh, UnknownScopesArePreserved) {
  SbdhDocument d = sample(testing::kSbdhFull);
  d.other_scopes.push_back({"LOCALTRACE", "abc", "x-local"});
  auto back = parse_sbdh(write_sbdh(d));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->other_scopes, d.other_scopes);
}

TEST(SbdhReceipts, AcknowledgementIsShapedLikeEhmisSample) {
  const SbdhDocument original = sample(testing::kSbdhFull);
  const SbdhReceiptIds ids{"c8792b06-eaa3-48db-a815-3e58b2086ab2", ts("2025-04-01T16:20:00+01:00")};
  auto ack = make_receipt_acknowledgement(original, ids);
  ASSERT_TRUE(ack.ok()) << ack.error().detail;
  const std::string bytes = write_sbdh(*ack);
  EXPECT_EQ(scope_types(bytes), scope_types(testing::read_sample(testing::kSbdhReceiptAck)));
  auto d = parse_sbdh(bytes);
  ASSERT_TRUE(d.ok()) << d.error().detail;
  EXPECT_EQ(*d, *ack);
  EXPECT_EQ(d->sender_gln, original.receiver_gln);
  EXPECT_EQ(d->receiver_gln, original.sender_gln);
  EXPECT_EQ(d->standard, "ehmisbdh-acknowledgement");
  EXPECT_EQ(d->type_version, "ebbp-signals-2.0");
  EXPECT_EQ(d->type, "ReceiptAcknowledgement");
  EXPECT_EQ(d->sender_sor, original.receiver_sor);
  EXPECT_EQ(d->receiver_sor, original.sender_sor);
  EXPECT_EQ(d->message_id, ids.instance_id);
  EXPECT_EQ(d->original_message_id, original.message_id);
  EXPECT_EQ(d->original_message_envelope_id, original.message_envelope_id);
  EXPECT_EQ(d->original_message_standard, "homecareobservation-message");
  EXPECT_EQ(d->original_message_version, "1.2");
  EXPECT_EQ(d->original_envelope_id, original.instance_id);
  EXPECT_TRUE(d->patient_id.empty());
  EXPECT_EQ(bytes.find("0101010227"), std::string::npos);
  EXPECT_EQ(d->receipt.kind, SbdhAckScope::kResponse);
  EXPECT_EQ(d->receipt.requesting_document_id, original.instance_id);
  EXPECT_EQ(d->receipt.requesting_document_created, original.created);
  EXPECT_EQ(d->receipt.expected_response, ts("2025-04-01T16:29:00+01:00"));
  auto s = read_signal(*d);
  ASSERT_TRUE(s.ok()) << s.error().detail;
  EXPECT_EQ(s->original_message_id, original.message_id);
  EXPECT_EQ(s->original_document_id, original.document_id);
  EXPECT_EQ(s->from_gln, original.receiver_gln);
  EXPECT_EQ(s->to_gln, original.sender_gln);
  EXPECT_EQ(s->this_message_time, ids.created);

  auto again = make_receipt_acknowledgement(*d, ids);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().detail, "original: an envelope receipt is never answered");
}

TEST(SbdhReceipts, ExceptionRoundTrips) {
  const SbdhDocument original = sample(testing::kSbdhFull);
  for (std::string_view type : {kReceiptExceptionSyntax, kReceiptExceptionAuthorization,
                                 kReceiptExceptionSignature, kReceiptExceptionSequence}) {
    auto ex = make_receipt_exception(original, type, "Payload er ikke gyldig XML",
                                     {"e1", ts("2025-04-01T16:21:00+01:00")});
    ASSERT_TRUE(ex.ok()) << ex.error().detail;
    EXPECT_EQ(ex->type, "ReceiptException");
    EXPECT_EQ(ex->statistical_information, "ReceiptException");  // as EHMI's example
    // ebBP's element order (ebbp-signals-2.0.4.xsd): identification, then ExceptionType with
    // the type as the ReceiptException's text, the required Reason, ExceptionMessage.
    const std::string& signal = ex->payload;
    const auto at = [&](std::string_view what) { return signal.find(what); };
    ASSERT_NE(at("<bpssignal:Exception "), std::string::npos) << signal;
    EXPECT_LT(at("<bpssignal:OriginalMessageIdentifier>"), at("<bpssignal:OriginalMessageDateTime>"));
    EXPECT_LT(at("<bpssignal:OriginalMessageDateTime>"), at("<bpssignal:ThisMessageDateTime>"));
    EXPECT_LT(at("<bpssignal:CollaborationIdentifier>"), at("<bpssignal:ExceptionType>"));
    EXPECT_NE(at("<bpssignal:ReceiptException>" + std::string(type) + "</bpssignal:ReceiptException>"),
              std::string::npos)
        << signal;
    EXPECT_LT(at("<bpssignal:ExceptionType>"), at("<bpssignal:Reason>"));
    EXPECT_LT(at("<bpssignal:Reason>"), at("<bpssignal:ExceptionMessage>"));
    auto d = parse_sbdh(write_sbdh(*ex));
    ASSERT_TRUE(d.ok());
    auto s = read_signal(*d);
    ASSERT_TRUE(s.ok()) << s.error().detail;
    EXPECT_TRUE(s->exception);
    EXPECT_EQ(s->exception_type, type);
    EXPECT_EQ(s->reason, "Payload er ikke gyldig XML");
  }
  EXPECT_FALSE(make_receipt_exception(original, "SyntaxException", "x", {"e1", {}}).ok());
  EXPECT_FALSE(make_receipt_exception(original, "Bad Type!", "x", {"e1", {}}).ok());
  EXPECT_FALSE(make_receipt_exception(original, "Syntax", "x", {"", {}}).ok());
  EXPECT_FALSE(read_signal(original).ok());
}

TEST(SbdhReceipts, ReadsEhmisReceiptExceptionFormsToo) {
  // EHMI's embedded example (medcomdk/dk-ehmi-sbdh TestExample_ehmiSBDH_Embedded_SBDHAckException)
  // names the root ReceiptException; its page shows <GeneralException>101</GeneralException>
  // inside ReceiptException. Our own signals written in those shapes.
  const SbdhDocument original = sample(testing::kSbdhFull);
  auto ex = make_receipt_exception(original, kReceiptExceptionSyntax, "x", {"e1", {}});
  ASSERT_TRUE(ex.ok());
  SbdhDocument d = *ex;
  d.payload = R"(<bpssignal:ReceiptException xmlns:bpssignal="http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0">
  <bpssignal:OriginalMessageIdentifier> 9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc </bpssignal:OriginalMessageIdentifier>
  <bpssignal:OriginalMessageDateTime>2025-04-01T16:19:00+01:00</bpssignal:OriginalMessageDateTime>
  <bpssignal:ThisMessageDateTime>2025-04-01T16:20:00+01:00</bpssignal:ThisMessageDateTime>
  <bpssignal:ExceptionType><bpssignal:ReceiptException> Syntax </bpssignal:ReceiptException></bpssignal:ExceptionType>
  <bpssignal:Reason>XML Parsing Error: not well-formed</bpssignal:Reason>
</bpssignal:ReceiptException>)";
  auto s = read_signal(d);
  ASSERT_TRUE(s.ok()) << s.error().detail;
  EXPECT_EQ(s->exception_type, "Syntax");
  EXPECT_EQ(s->reason, "XML Parsing Error: not well-formed");
  EXPECT_EQ(s->original_message_id, "9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc");
  d.payload = R"(<bpssignal:Exception xmlns:bpssignal="http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0">
  <bpssignal:OriginalMessageIdentifier>m1</bpssignal:OriginalMessageIdentifier>
  <bpssignal:ThisMessageDateTime>2025-04-01T16:20:00+01:00</bpssignal:ThisMessageDateTime>
  <bpssignal:ExceptionType><bpssignal:ReceiptException><GeneralException>101</GeneralException></bpssignal:ReceiptException></bpssignal:ExceptionType>
  <bpssignal:Reason>Internal error</bpssignal:Reason>
</bpssignal:Exception>)";
  s = read_signal(d);
  ASSERT_TRUE(s.ok()) << s.error().detail;
  EXPECT_EQ(s->exception_type, "GeneralException");
  EXPECT_EQ(s->reason, "Internal error");
}

TEST(SbdhReceipts, ASignalForAnUnknownEnvelopeIsRefusedWithASequenceException) {
  const SbdhDocument ack = sample(testing::kSbdhReceiptAck);
  auto refusal = make_signal_refusal(ack, "not an envelope the broker sent", {"r1", ts("2025-04-01T16:22:00+01:00")});
  ASSERT_TRUE(refusal.ok()) << refusal.error().detail;
  EXPECT_EQ(refusal->type, "ReceiptException");
  EXPECT_EQ(refusal->sender_gln, ack.receiver_gln);
  EXPECT_EQ(refusal->receiver_gln, ack.sender_gln);
  EXPECT_EQ(refusal->original_envelope_id, ack.instance_id);
  auto s = read_signal(*parse_sbdh(write_sbdh(*refusal)));
  ASSERT_TRUE(s.ok()) << s.error().detail;
  EXPECT_EQ(s->exception_type, "Sequence");
  EXPECT_FALSE(make_signal_refusal(sample(testing::kSbdhFull), "x", {"r1", {}}).ok());
}

std::string replace(std::string s, std::string_view from, std::string_view to) {
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(Sbdh, ErrorsNameThePathAndNeverTheValue) {
  const std::string good = testing::read_sample(testing::kSbdhReceiptAck);
  const std::string h = "StandardBusinessDocument/StandardBusinessDocumentHeader";
  struct Case {
    std::string bytes;
    Errc code;
    std::string detail;
  };
  const Case cases[] = {
      {replace(good, "0088:5790000127092", "0101010227"), Errc::kInvalid,
       h + "/Sender/Identifier: expected 0088:<GLN>"},
      {replace(good, "0088:5790000123117", "0088:5790000123118"), Errc::kInvalid,
       h + "/Receiver/Identifier: expected 0088:<GLN>"},
      {replace(good, "<CreationDateAndTime>2025-04-01T16:20:00+01:00",
               "<CreationDateAndTime>0101010227"),
       Errc::kInvalid,
       h + "/DocumentIdentification/CreationDateAndTime: expected xs:dateTime with a zone"},
      {replace(good, "<Type>ReceiptAcknowledgement</Type>", ""), Errc::kInvalid,
       h + "/DocumentIdentification/Type: missing"},
      {replace(good, "<Type>PROCESSID</Type>", "<Type>DOCUMENTID</Type>"), Errc::kInvalid,
       h + "/BusinessScope/Scope[2]: repeated scope DOCUMENTID"},
      {replace(good, "<InstanceIdentifier>Response</InstanceIdentifier>",
               "<InstanceIdentifier>0101010227</InstanceIdentifier>"),
       Errc::kInvalid,
       h + "/BusinessScope/Scope[13]/InstanceIdentifier: expected Request or Response"},
      {replace(good, "mimeType=\"application/xml\"", ""), Errc::kInvalid,
       "StandardBusinessDocument/BinaryContent: mimeType missing"},
      {replace(good, "PGJwc3", "PGJ!c3"), Errc::kMalformed,
       "StandardBusinessDocument/BinaryContent: not valid base64"},
      {replace(good, "TimeToAcknowledgeReceipt=\"600000\"", "TimeToAcknowledgeReceipt=\"-1\""),
       Errc::kInvalid,
       h + "/BusinessScope/Scope[13]/BusinessService/ServiceTransaction: "
           "TimeToAcknowledgeReceipt: expected milliseconds"},
  };
  for (const auto& c : cases) {
    auto r = parse_sbdh(c.bytes);
    ASSERT_FALSE(r.ok()) << c.detail;
    EXPECT_EQ(r.error().code, c.code) << c.detail;
    EXPECT_EQ(r.error().detail, c.detail);
    EXPECT_EQ(r.error().detail.find("0101010227"), std::string::npos);
  }
  auto no_content =
      parse_sbdh(good.substr(0, good.find("<BinaryContent")) + "</StandardBusinessDocument>");
  ASSERT_FALSE(no_content.ok());
  EXPECT_EQ(no_content.error().detail, "StandardBusinessDocument/BinaryContent: missing");
  EXPECT_FALSE(parse_sbdh("<!DOCTYPE x><StandardBusinessDocument/>").ok());
  EXPECT_EQ(parse_sbdh("<StandardBusinessDocument/>").error().detail,
            "root element is not an SBDH StandardBusinessDocument");
}

Envelope native_example() {
  std::ifstream in(std::string(SEKTORBRO_SOURCE_DIR) +
                   "/schemas/examples/certificate-request-lae125.xml");
  std::ostringstream s;
  s << in.rdbuf();
  auto e = decode_envelope(s.str());
  EXPECT_TRUE(e.ok());
  return e.ok() ? *e : Envelope{};
}

TEST(SbdhNative, WrapsAndUnwrapsANativeEnvelope) {
  const Envelope e = native_example();
  ASSERT_FALSE(e.letters.empty());
  auto wrapped = wrap_native_envelope(e, {"sbdh-1", ts("2026-11-20T09:05:00Z")});
  ASSERT_TRUE(wrapped.ok()) << wrapped.error().detail;
  // The example names the demo's parties (issue 12, item 16): jc-aarhus to psy-risskov.
  EXPECT_EQ(wrapped->sender_gln, "5790000751013");
  EXPECT_EQ(wrapped->receiver_gln, "5790000662012");
  EXPECT_EQ(wrapped->sender_sor, "751101000016005");
  EXPECT_EQ(wrapped->receiver_sor, "662101000016009");
  EXPECT_EQ(wrapped->patient_id, "0101801234");
  EXPECT_EQ(wrapped->message_id, "JCA-2026-0002");
  EXPECT_EQ(wrapped->message_envelope_id, "ENV-JCA-00002");
  EXPECT_EQ(wrapped->receipt.kind, SbdhAckScope::kRequest);
  EXPECT_EQ(wrapped->receipt.expected_response, ts("2026-11-20T09:15:00Z"));
  auto parsed = parse_sbdh(write_sbdh(*wrapped));
  ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
  auto back = unwrap_native_envelope(*parsed);
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(*back, e);

  SbdhDocument tampered = *parsed;
  tampered.sender_gln = "5790000121526";
  EXPECT_EQ(unwrap_native_envelope(tampered).error().code, Errc::kInvalid);
  tampered = *parsed;
  tampered.message_id = "other";
  EXPECT_EQ(unwrap_native_envelope(tampered).error().code, Errc::kInvalid);
  tampered = *parsed;
  tampered.payload = "<Emessage/>";
  EXPECT_FALSE(unwrap_native_envelope(tampered).ok());
  EXPECT_EQ(unwrap_native_envelope(sample(testing::kSbdhFull)).error().code,
            Errc::kUnsupportedType);

  Envelope two = e;
  two.letters.push_back(e.letters[0]);
  EXPECT_FALSE(wrap_native_envelope(two, {"sbdh-2", {}}).ok());
  EXPECT_FALSE(wrap_native_envelope(e, {"", {}}).ok());
}

}  // namespace
}  // namespace sektorbro::adapters
