// Issue 9 through the drivers (intake, dispatcher) on a MemoryStore with a scripted transport
// and a manual clock: EHMI envelope receipts correlated with the SBDH envelopes the broker sent,
// deliveries to FHIR receivers (content type, the original FHIR message id in acknowledgements),
// FHIR JSON in and the answer in JSON, and the SBDH payload an endpoint's config names. The FHIR
// inputs are our own test messages in tests/data/medcom/fhir (each says which public MedCom
// example it follows; the JSON ones are their JSON forms).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "adapters/fhir/fhir_acknowledgement.hpp"
#include "adapters/fhir/fhir_json.hpp"
#include "adapters/fhir/fhir_message.hpp"
#include "adapters/sbdh/sbdh_document.hpp"
#include "adapters/sbdh/sbdh_native.hpp"
#include "adapters/sbdh/sbdh_receipts.hpp"
#include "broker/edge/edge_codec.hpp"
#include "broker/server/tests/broker_under_test.hpp"

namespace sektorbro::testing {
namespace {

std::string fhir_file(const std::string& name) {
  std::ifstream in(std::string(SEKTORBRO_SOURCE_DIR) + "/tests/data/medcom/fhir/" + name,
                   std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

Endpoint* endpoint_named(BrokerConfig& c, const std::string& id) {
  for (auto& e : c.endpoints)
    if (e.id == id) return &e;
  return nullptr;
}

bool has(const std::vector<std::string>& kinds, const std::string& kind) {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

class EhmiReceiptTest : public ::testing::Test, protected Parties {
 protected:
  EhmiReceiptTest() {
    endpoint_named(config, "psy")->dialect = Dialect::kSbdh;
    b = std::make_unique<BrokerUnderTest>(config);
  }
  // jc's request delivered to psy in an SBDH envelope: the envelope as psy got it.
  adapters::SbdhDocument deliver_request(const std::string& id) {
    const Envelope e = make_certificate_request(jc, psy, "ENV-" + id, id, b->clock.now());
    EXPECT_EQ(b->post(e).result(), http::status::accepted);
    EXPECT_TRUE(b->run_until([&] { return b->transport.count() > 0; }));
    b->settle();
    const OutboundRequest sent = b->transport.sent().back();
    EXPECT_EQ(sent.content_type, "application/xml");
    auto doc = adapters::parse_sbdh(sent.body);
    EXPECT_TRUE(doc) << (doc ? "" : doc.error().detail);
    return doc ? *doc : adapters::SbdhDocument{};
  }
  std::string ack_for(const adapters::SbdhDocument& envelope, const std::string& id) {
    auto ack = adapters::make_receipt_acknowledgement(envelope, {id, b->clock.now()});
    EXPECT_TRUE(ack);
    return adapters::write_sbdh(*ack);
  }

  BrokerConfig config = test_config(*this);
  std::unique_ptr<BrokerUnderTest> b;
};

TEST_F(EhmiReceiptTest, TheBrokerRecordsEachSbdhEnvelopeItSends) {
  const adapters::SbdhDocument sent = deliver_request("REQ1");
  ASSERT_FALSE(sent.instance_id.empty());
  auto found = b->store->find_sent_envelope(sent.instance_id);
  ASSERT_TRUE(found && found->has_value());
  const auto m = b->message_of(jc.gln, "REQ1");
  ASSERT_TRUE(m);
  EXPECT_EQ((*found)->message_id, m->id);
  EXPECT_EQ(m->state, DeliveryState::kDelivered);
}

TEST_F(EhmiReceiptTest, AReceiptAcknowledgementForAnEnvelopeItSentGoesOnTheTimeline) {
  const adapters::SbdhDocument sent = deliver_request("REQ1");
  const auto m = b->message_of(jc.gln, "REQ1");
  ASSERT_TRUE(m);
  EXPECT_FALSE(has(b->timeline_kinds(m->id), "ehmi-receipt-acknowledgement"));
  const auto answer = b->post(ack_for(sent, "ACK-1"));
  EXPECT_EQ(answer.result(), http::status::accepted) << answer.body();
  EXPECT_TRUE(has(b->timeline_kinds(m->id), "ehmi-receipt-acknowledgement"));
  auto events = b->store->timeline(m->id);
  ASSERT_TRUE(events);
  EXPECT_NE(events->back().detail.find(sent.instance_id), std::string::npos);
  // An envelope receipt is no business receipt: the request still waits for psy's own.
  EXPECT_EQ(b->message_of(jc.gln, "REQ1")->receipt, ReceiptState::kNone);
}

// A receiver that pulls its mailbox gets SBDH envelopes too: each one handed out is recorded,
// so the receipt it sends back for it is taken, not refused as for an envelope never sent.
TEST(EhmiMailboxTest, AnEnvelopeFetchedFromTheMailboxIsRecordedAndItsReceiptTaken) {
  Parties parties;
  BrokerConfig config = test_config(parties);
  Endpoint* psy = endpoint_named(config, "psy");
  psy->dialect = Dialect::kSbdh;
  psy->url = "mailbox:";
  BrokerUnderTest b(config);
  const Envelope e =
      make_certificate_request(parties.jc, parties.psy, "ENV-MBX", "MBX1", b.clock.now());
  ASSERT_EQ(b.post(e).result(), http::status::accepted);
  b.settle();
  const auto fetched = b.get("/v1/mailbox?endpoint=psy");
  ASSERT_EQ(fetched.result(), http::status::ok) << fetched.body();
  const auto items = nlohmann::json::parse(fetched.body())["messages"];
  ASSERT_EQ(items.size(), 1u) << fetched.body();
  auto doc = adapters::parse_sbdh(items[0]["body"].get<std::string>());
  ASSERT_TRUE(doc) << doc.error().detail;
  auto found = b.store->find_sent_envelope(doc->instance_id);
  ASSERT_TRUE(found && found->has_value()) << "the fetched envelope was not recorded";
  const auto m = b.message_of(parties.jc.gln, "MBX1");
  ASSERT_TRUE(m);
  EXPECT_EQ((*found)->message_id, m->id);
  auto ack = adapters::make_receipt_acknowledgement(*doc, {"ACK-MBX", b.clock.now()});
  ASSERT_TRUE(ack);
  const auto answer = b.post(adapters::write_sbdh(*ack));
  EXPECT_EQ(answer.result(), http::status::accepted) << answer.body();
  EXPECT_TRUE(has(b.timeline_kinds(m->id), "ehmi-receipt-acknowledgement"));
}

TEST_F(EhmiReceiptTest, OneForAnEnvelopeItNeverSentIsRefusedWithAnEhmiSequenceException) {
  adapters::SbdhDocument sent = deliver_request("REQ1");
  const auto m = b->message_of(jc.gln, "REQ1");
  ASSERT_TRUE(m);
  const auto before = b->timeline_kinds(m->id);
  adapters::SbdhDocument never = sent;
  never.instance_id = "0f0e0d0c-0b0a-4908-8706-050403020100";
  const auto answer = b->post(ack_for(never, "ACK-2"));
  EXPECT_EQ(answer.result(), http::status::unprocessable_entity);
  auto refusal = adapters::parse_sbdh(answer.body());
  ASSERT_TRUE(refusal) << answer.body();
  EXPECT_EQ(refusal->type, "ReceiptException");
  EXPECT_EQ(refusal->receiver_gln, psy.gln);  // back to who posted it
  auto signal = adapters::read_signal(*refusal);
  ASSERT_TRUE(signal);
  EXPECT_EQ(signal->exception_type, "Sequence");
  EXPECT_NE(signal->reason.find("0f0e0d0c-0b0a-4908-8706-050403020100"), std::string::npos);
  EXPECT_EQ(b->timeline_kinds(m->id), before);  // nothing recorded

  // Nor may another party answer an envelope that went to psy.
  auto foreign = adapters::make_receipt_acknowledgement(sent, {"ACK-3", b->clock.now()});
  ASSERT_TRUE(foreign);
  foreign->sender_gln = jc.gln;
  const auto from_jc = b->post(adapters::write_sbdh(*foreign));
  EXPECT_EQ(from_jc.result(), http::status::unprocessable_entity);
  EXPECT_EQ(b->timeline_kinds(m->id), before);
}

TEST_F(EhmiReceiptTest, AReceiptExceptionInTheDeliveryAnswerIsRecordedToo) {
  b->transport.answer_with([&](const OutboundRequest& r) {
    auto doc = adapters::parse_sbdh(r.body);
    if (!doc) return TransportResponse{500, "", ""};
    auto ex = adapters::make_receipt_exception(*doc, adapters::kReceiptExceptionSyntax,
                                               "payload not readable", {"EX-1", b->clock.now()});
    return TransportResponse{200, adapters::write_sbdh(*ex), ""};
  });
  const Envelope e = make_certificate_request(jc, psy, "ENV-REQ2", "REQ2", b->clock.now());
  ASSERT_EQ(b->post(e).result(), http::status::accepted);
  std::optional<MessageRecord> m;
  ASSERT_TRUE(b->run_until([&] {
    m = b->message_of(jc.gln, "REQ2");
    return m && has(b->timeline_kinds(m->id), "ehmi-receipt-exception");
  }));
  b->settle();
  auto events = b->store->timeline(m->id);
  ASSERT_TRUE(events);
  bool found = false;
  for (const auto& ev : *events)
    if (ev.kind == "ehmi-receipt-exception")
      found = ev.detail.find("(Syntax): payload not readable") != std::string::npos;
  EXPECT_TRUE(found);
}

TEST_F(EhmiReceiptTest, RefusalsOfSbdhEnvelopesCarryTheExceptionTypeForTheFault) {
  // psy's SBDH envelope around a letter for a receiver the broker does not know: Authorization.
  const Envelope cert =
      make_certificate(psy, make_party("579000011111", "265161000016222", "Ukendt"), "ENV-C1", "C1",
                       "REQ1", b->clock.now());
  adapters::SbdhWrapOptions options;
  options.instance_id = "SBDH-PSY-1";
  options.created = b->clock.now();
  auto own = adapters::wrap_native_envelope(cert, options);
  ASSERT_TRUE(own) << own.error().detail;
  const auto unknown = b->post(adapters::write_sbdh(*own));
  EXPECT_EQ(unknown.result(), http::status::unprocessable_entity);
  auto doc = adapters::parse_sbdh(unknown.body());
  ASSERT_TRUE(doc) << unknown.body();
  EXPECT_EQ(adapters::read_signal(*doc)->exception_type, "Authorization");
  EXPECT_EQ(doc->original_envelope_id, "SBDH-PSY-1");
}

// --- FHIR receivers -------------------------------------------------------------------------

TEST(FhirDeliveryTest, ADeliveryToAFhirEndpointIsSentAsFhirXml) {
  Parties p;
  BrokerConfig config = test_config(p);
  endpoint_named(config, "jc")->dialect = Dialect::kFhir;
  BrokerUnderTest b(config);
  const Date discharge{std::chrono::sys_days{std::chrono::year{2025} / 12 / 10}};
  Envelope notice = make_discharge_notice(p.psy, p.jc, "ENV-D1", "D1", b.clock.now(), discharge);
  // FHIR has no place for consent: a notice with it set is refused for a FHIR receiver.
  std::get<DischargeNotice>(notice.letters[0].body).consent = false;
  ASSERT_EQ(b.post(notice).result(), http::status::accepted);
  ASSERT_TRUE(b.run_until([&] { return b.transport.count() > 0; }));
  b.settle();
  const OutboundRequest sent = b.transport.sent().front();
  EXPECT_EQ(sent.content_type, "application/fhir+xml");
  EXPECT_NE(sent.body.find("hospital-notification-message"), std::string::npos);
}

// Issue 9 item 4: a FHIR endpoint with "fhir_format": "json" gets its deliveries as FHIR JSON
// (application/fhir+json) — the same message as the XML one, every field.
TEST(FhirDeliveryTest, AFhirEndpointThatWantsJsonGetsFhirJson) {
  Parties p;
  BrokerConfig config = test_config(p);
  endpoint_named(config, "jc")->dialect = Dialect::kFhir;
  endpoint_named(config, "jc")->fhir_json = true;
  BrokerUnderTest b(config);
  const Date discharge{std::chrono::sys_days{std::chrono::year{2025} / 12 / 10}};
  Envelope notice = make_discharge_notice(p.psy, p.jc, "ENV-D1", "D1", b.clock.now(), discharge);
  // FHIR has no place for consent: a notice with it set is refused for a FHIR receiver.
  std::get<DischargeNotice>(notice.letters[0].body).consent = false;
  ASSERT_EQ(b.post(notice).result(), http::status::accepted);
  ASSERT_TRUE(b.run_until([&] { return b.transport.count() > 0; }));
  b.settle();
  const OutboundRequest sent = b.transport.sent().front();
  EXPECT_EQ(sent.content_type, "application/fhir+json");
  ASSERT_TRUE(adapters::looks_like_json(sent.body)) << sent.body;
  EXPECT_EQ(nlohmann::json::parse(sent.body)["resourceType"], "Bundle");
  auto xml = adapters::fhir_json_to_xml(sent.body);
  ASSERT_TRUE(xml) << xml.error().detail;
  auto from_json = adapters::parse_fhir_message(*xml);
  ASSERT_TRUE(from_json) << from_json.error().detail;
  auto as_xml = encode_outbound_fhir(notice, b.clock.now());
  ASSERT_TRUE(as_xml);
  auto from_xml = adapters::parse_fhir_message(*as_xml);
  ASSERT_TRUE(from_xml);
  from_json->timestamp = from_xml->timestamp = {};  // written at the attempt, not here
  EXPECT_EQ(*from_json, *from_xml);
  EXPECT_EQ(from_json->event, adapters::kEventHospitalNotification);
  EXPECT_EQ(from_json->patient.cpr, notice.letters.front().patient->cpr);
}

// The parties of our FHIR test messages (tests/data/medcom/fhir): the psychiatry department
// sends, the jobcenter receives.
struct FhirParties {
  Party psy = make_party("579000067890", "265161000016000", "Psykiatrien Region Midt");
  Party jc = make_party("579000012345", "123451000016001", "Jobcenter Aarhus");
  Party broker = make_party("579000099999", "265161000016999", "Sektorbro");
};

BrokerConfig fhir_config(const FhirParties& f, Dialect jc_dialect) {
  Parties p;
  p.jc = f.jc;
  p.psy = f.psy;
  p.broker = f.broker;
  BrokerConfig c = test_config(p);
  endpoint_named(c, "psy")->dialect = Dialect::kFhir;
  endpoint_named(c, "jc")->dialect = jc_dialect;
  endpoint_named(c, "jc")->accepts.push_back(LetterType::kCorrespondence);
  return c;
}

TEST(FhirDeliveryTest, TheAcknowledgementToAFhirSenderNamesItsOwnMessageHeaderId) {
  const FhirParties f;
  ASSERT_EQ(f.psy.gln, "5790000678907");  // as the test message names them
  ASSERT_EQ(f.jc.gln, "5790000123452");
  BrokerUnderTest b(fhir_config(f, Dialect::kNative));
  // jc (native) answers the delivered letter with its positive receipt in the HTTP answer.
  b.transport.answer_with([&](const OutboundRequest& r) {
    if (!r.url.ends_with("/jc")) return TransportResponse{200, "", ""};
    auto env = decode_envelope(r.body);
    if (!env) return TransportResponse{500, "", ""};
    return TransportResponse{
        200, encode_envelope(make_positive_receipt(*env, "ENV-K1", "K1", b.clock.now())), ""};
  });
  const auto answer = b.post_as(fhir_file("care_communication.json"), "application/fhir+json");
  ASSERT_EQ(answer.result(), http::status::accepted) << answer.body();
  ASSERT_TRUE(b.run_until([&] { return b.transport.count() >= 2; }));
  b.settle();
  const OutboundRequest ack = b.transport.sent().at(1);
  EXPECT_TRUE(ack.url.ends_with("/psy"));
  EXPECT_EQ(ack.content_type, "application/fhir+xml");
  auto parsed = adapters::parse_fhir_acknowledgement(ack.body);
  ASSERT_TRUE(parsed) << parsed.error().detail << "\n" << ack.body;
  EXPECT_EQ(parsed->code, adapters::FhirAckCode::kOk);
  // The sender's own MessageHeader.id, not the UUID the broker would make of F0b9e8d7c6f5a4.
  EXPECT_EQ(parsed->response_identifier, "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b");
}

// Issue 9 item 3: a FHIR sender's accepted message is answered with MedCom's positive
// Acknowledgement (ok), not the native Acceptance — in XML for XML, JSON for JSON, the same
// answer for a resend; an accepted Acknowledgement is not acknowledged.
TEST(FhirDeliveryTest, AnAcceptedFhirMessageIsAnsweredWithAPositiveAcknowledgement) {
  const FhirParties f;
  BrokerUnderTest b(fhir_config(f, Dialect::kNative));
  const auto answer = b.post(fhir_file("care_communication.xml"));
  ASSERT_EQ(answer.result(), http::status::accepted) << answer.body();
  EXPECT_EQ(answer[http::field::content_type], "application/fhir+xml; charset=utf-8");
  EXPECT_EQ(answer.body().find("Acceptance"), std::string::npos) << answer.body();
  auto ack = adapters::parse_fhir_acknowledgement(answer.body());
  ASSERT_TRUE(ack) << ack.error().detail << "\n" << answer.body();
  EXPECT_EQ(ack->code, adapters::FhirAckCode::kOk);
  EXPECT_TRUE(ack->issues.empty());
  EXPECT_EQ(ack->response_identifier, "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b");
  EXPECT_EQ(ack->receiver.gln, f.psy.gln);  // to the sender…
  EXPECT_EQ(ack->receiver.sor, f.psy.sor);
  EXPECT_EQ(ack->sender.gln, f.broker.gln);  // …from the broker, as its refusals are
  EXPECT_EQ(ack->sender.sor, f.broker.sor);
  const auto m = b.message_of(f.psy.gln, "F0b9e8d7c6f5a4");
  ASSERT_TRUE(m);

  // The resend, as JSON: the same answer (code, original, time), in JSON; nothing new stored.
  const auto again = b.post_as(fhir_file("care_communication.json"), "application/fhir+json");
  ASSERT_EQ(again.result(), http::status::accepted) << again.body();
  EXPECT_EQ(again[http::field::content_type], "application/fhir+json; charset=utf-8");
  auto xml = adapters::fhir_json_to_xml(again.body());
  ASSERT_TRUE(xml) << again.body();
  auto second = adapters::parse_fhir_acknowledgement(*xml);
  ASSERT_TRUE(second) << second.error().detail;
  EXPECT_EQ(second->code, adapters::FhirAckCode::kOk);
  EXPECT_EQ(second->response_identifier, ack->response_identifier);
  EXPECT_EQ(second->timestamp, ack->timestamp);
  auto all = b.store->list_messages(MessageFilter{});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 1u);
}

TEST(FhirDeliveryTest, JsonComesInAsTheSameLetterAndItsRefusalGoesBackInJson) {
  const FhirParties f;
  BrokerUnderTest b(fhir_config(f, Dialect::kNative));
  const auto json = b.post_as(fhir_file("care_communication.json"), "application/fhir+json");
  ASSERT_EQ(json.result(), http::status::accepted) << json.body();
  const auto m = b.message_of(f.psy.gln, "F0b9e8d7c6f5a4");
  ASSERT_TRUE(m);
  // The same message as XML is a resend of the same letter: the first answer, nothing new.
  const auto xml = b.post(fhir_file("care_communication.xml"));
  EXPECT_EQ(xml.result(), http::status::accepted);
  auto all = b.store->list_messages(MessageFilter{});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 1u);

  // The admission (a HospitalStayNotice, which jc does not take) as JSON: refused with a JSON
  // fatal-error Acknowledgement.
  auto admit = adapters::fhir_xml_to_json(fhir_file("hospital_notification_admit.xml"));
  ASSERT_TRUE(admit);
  const auto refused = b.post_as(*admit, "application/fhir+json");
  EXPECT_EQ(refused.result(), http::status::unprocessable_entity);
  EXPECT_EQ(refused[http::field::content_type], "application/fhir+json; charset=utf-8");
  auto back = adapters::fhir_json_to_xml(refused.body());
  ASSERT_TRUE(back) << refused.body();
  auto ack = adapters::parse_fhir_acknowledgement(*back);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->code, adapters::FhirAckCode::kFatalError);
  EXPECT_EQ(ack->response_identifier, "5f7b9d1f-3a4c-4b6d-8e8f-0a2b4c6d8e0a");

  // Plain application/json is not a message type the broker takes.
  EXPECT_EQ(b.post_as(fhir_file("care_communication.json"), "application/json").result(),
            http::status::unsupported_media_type);
}

// Issue 9 item 2: an admission (MedCom HospitalNotification, admit-inpatient) from psychiatry
// reaches a native jobcenter as a HospitalStayNotice that holds the whole FHIR message, and a
// FHIR jobcenter as the hospital's own message; no deadline opens (only a discharge opens the
// MentorResponse deadline). The input is our admission test message (tests/data/medcom/fhir).
TEST(FhirDeliveryTest, AnAdmissionReachesTheJobcenterAsAHospitalStayNotice) {
  const FhirParties f;
  const std::string admit = fhir_file("hospital_notification_admit.xml");
  const auto sent_message = adapters::parse_fhir_message(admit);
  ASSERT_TRUE(sent_message);
  for (Dialect jc_dialect : {Dialect::kNative, Dialect::kFhir}) {
    BrokerConfig c = fhir_config(f, jc_dialect);
    endpoint_named(c, "jc")->accepts.push_back(LetterType::kHospitalStayNotice);
    BrokerUnderTest b(c);
    const auto answer = b.post(admit);
    ASSERT_EQ(answer.result(), http::status::accepted) << answer.body();
    ASSERT_TRUE(b.run_until([&] { return b.transport.count() > 0; }));
    b.settle();
    const OutboundRequest sent = b.transport.sent().front();
    if (jc_dialect == Dialect::kNative) {
      auto env = decode_envelope(sent.body);
      ASSERT_TRUE(env) << env.error().detail;
      ASSERT_EQ(env->letters.at(0).type(), LetterType::kHospitalStayNotice);
      const auto& n = std::get<HospitalStayNotice>(env->letters.at(0).body);
      EXPECT_EQ(n.event, HospitalStayEvent::kAdmitInpatient);
      EXPECT_EQ(n.stay_start, "2026-10-01T12:00:00+02:00");
      EXPECT_EQ(n.encounter_class, "IMP");
      EXPECT_EQ(env->letters.at(0).patient->cpr, "0101801234");
      auto whole = adapters::fhir_json_to_xml(n.fhir_message);
      ASSERT_TRUE(whole) << whole.error().detail;
      auto kept = adapters::parse_fhir_message(*whole);
      ASSERT_TRUE(kept) << kept.error().detail;
      EXPECT_EQ(*kept, *sent_message);
    } else {
      EXPECT_EQ(sent.content_type, "application/fhir+xml");
      auto m = adapters::parse_fhir_message(sent.body);
      ASSERT_TRUE(m) << m.error().detail;
      EXPECT_EQ(*m, *sent_message);  // the hospital's own message
    }
    auto deadlines = b.store->list_deadlines(DeadlineFilter{});
    ASSERT_TRUE(deadlines);
    EXPECT_TRUE(deadlines->empty()) << to_string(jc_dialect);
  }
}

// Issue 9 ("MessageHeader ids are kept so replies and acknowledgements correlate"): psychiatry
// sends a HospitalNotification and then its revise (or cancel) form, both as FHIR, to a FHIR
// jobcenter. The revision is its own FHIR message (its own MessageHeader.id) but the same native
// letter as the notification it revises. The jobcenter acknowledges each message it received by
// the MessageHeader.id it received: each Acknowledgement is taken and is the positive receipt of
// the very message it names — the revision's first (the letter's latest version), then the
// first notification's (which must not land on the revision).
void acknowledge_both_versions(const std::string& first_xml, const std::string& revision_xml,
                               const std::string& first_header_id) {
  const FhirParties f;
  BrokerConfig c = fhir_config(f, Dialect::kFhir);
  endpoint_named(c, "jc")->accepts.push_back(LetterType::kHospitalStayNotice);
  BrokerUnderTest b(c);
  const auto first = b.post(first_xml);
  ASSERT_EQ(first.result(), http::status::accepted) << first.body();
  ASSERT_TRUE(b.run_until([&] { return b.transport.count() >= 1; }));
  b.settle();
  const auto second = b.post(revision_xml);
  ASSERT_EQ(second.result(), http::status::accepted) << second.body();
  ASSERT_TRUE(b.run_until([&] { return b.transport.count() >= 2; }));
  b.settle();

  // What jc got: two FHIR messages, each with its MessageHeader.id, and the stored messages
  // they came from (psy's, oldest first).
  std::vector<std::string> header_ids;
  for (const OutboundRequest& sent : b.transport.sent()) {
    if (!sent.url.ends_with("/jc")) continue;
    auto m = adapters::parse_fhir_message(sent.body);
    ASSERT_TRUE(m) << m.error().detail;
    header_ids.push_back(m->header_id);
  }
  ASSERT_EQ(header_ids.size(), 2u);
  EXPECT_EQ(header_ids[0], first_header_id);  // the hospital's own ids
  EXPECT_NE(header_ids[1], header_ids[0]);
  auto all = b.store->list_messages(MessageFilter{});
  ASSERT_TRUE(all);
  std::vector<std::int64_t> psy_messages;
  for (const auto& m : *all)
    if (m.sender_gln == f.psy.gln) psy_messages.push_back(m.id);
  ASSERT_EQ(psy_messages.size(), 2u);
  ASSERT_LT(psy_messages[0], psy_messages[1]);

  // `n` (one hex digit) makes the Acknowledgements' own ids differ where the native ids made of
  // them are taken from (the first 13 hex digits).
  const auto acknowledge = [&](const std::string& header_id, char n) {
    adapters::FhirAcknowledgement ack;
    ack.bundle_id = std::string("0a1b2c3") + n + "-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    ack.header_id = std::string("1a2b3c4") + n + "-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    ack.timestamp = b.clock.now();
    ack.response_identifier = header_id;
    ack.code = adapters::FhirAckCode::kOk;
    ack.sender = {f.jc.gln, f.jc.sor};
    ack.receiver = {f.psy.gln, f.psy.sor};
    ack.source_endpoint = "https://sor2.sum.dsdn.dk/#id=" + f.jc.sor;
    ack.destination_endpoint = "https://sor2.sum.dsdn.dk/#id=" + f.psy.sor;
    return b.post_as(adapters::write_fhir_acknowledgement(ack), "application/fhir+xml");
  };
  const auto receipt_of = [&](std::int64_t id) {
    auto m = b.store->get_message(id);
    return m && *m ? (*m)->receipt : ReceiptState::kNone;
  };
  EXPECT_EQ(receipt_of(psy_messages[0]), ReceiptState::kNone);
  EXPECT_EQ(receipt_of(psy_messages[1]), ReceiptState::kNone);

  const auto for_revision = acknowledge(header_ids[1], '2');
  EXPECT_EQ(for_revision.result(), http::status::accepted) << for_revision.body();
  EXPECT_EQ(receipt_of(psy_messages[1]), ReceiptState::kPositive);
  EXPECT_EQ(receipt_of(psy_messages[0]), ReceiptState::kNone);

  const auto for_first = acknowledge(header_ids[0], '1');
  EXPECT_EQ(for_first.result(), http::status::accepted) << for_first.body();
  EXPECT_EQ(receipt_of(psy_messages[0]), ReceiptState::kPositive);
  EXPECT_TRUE(has(b.timeline_kinds(psy_messages[0]), "receipt"));
  EXPECT_TRUE(has(b.timeline_kinds(psy_messages[1]), "receipt"));
}

TEST(FhirDeliveryTest, AFhirReceiversAcknowledgementOfARevisedDischargeIsTheRevisionsReceipt) {
  for (const std::string revision : {"hospital_notification_revise_discharge.xml",
                                     "hospital_notification_cancel_discharge.xml"}) {
    SCOPED_TRACE(revision);
    acknowledge_both_versions(fhir_file("hospital_notification_discharge.xml"), fhir_file(revision),
                              "2c4e6a8b-0d1f-4e3a-9b5c-7d9e1f3a5b7c");
  }
}

// The same for a HospitalStayNotice (admit-inpatient), whose revision a FHIR receiver gets as
// the hospital's own message, whole. The revise/cancel forms are our admission test message
// with the activity prefixed, ids of their own and the Provenance entity naming the admission.
TEST(FhirDeliveryTest, AFhirReceiversAcknowledgementOfARevisedAdmissionIsTheRevisionsReceipt) {
  const std::string admit = fhir_file("hospital_notification_admit.xml");
  const auto replace_all = [](std::string& s, const std::string& from, const std::string& to) {
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
      s.replace(at, from.size(), to);
  };
  for (const std::string prefix : {"revise-", "cancel-"}) {
    SCOPED_TRACE(prefix);
    std::string revision = admit;
    replace_all(revision, "<code value=\"admit-inpatient\"/>",
                "<code value=\"" + prefix + "admit-inpatient\"/>");
    replace_all(revision, "9b1d3f5b-7c9d-4ebf-8a3b-5c7d9f1b3d5f",  // Bundle.id
                "9c2e4a6c-8d0e-4f1a-9b3c-6d8e0a2c4e6a");
    replace_all(revision, "5f7b9d1f-3a4c-4b6d-8e8f-0a2b4c6d8e0a",  // MessageHeader.id
                "6a8c0e2f-3a4c-4b6d-8e8f-0a2b4c6d8e0b");
    replace_all(revision, "</agent>",
                "</agent><entity><role value=\"revision\"/><what><reference "
                "value=\"MessageHeader/5f7b9d1f-3a4c-4b6d-8e8f-0a2b4c6d8e0a\"/></what></entity>");
    acknowledge_both_versions(admit, revision, "5f7b9d1f-3a4c-4b6d-8e8f-0a2b4c6d8e0a");
  }
}

// --- the SBDH payload an endpoint wants -----------------------------------------------------

TEST(SbdhPayloadTest, AnSbdhEndpointGetsTheFhirPayloadItsConfigNames) {
  const FhirParties f;
  BrokerConfig c = fhir_config(f, Dialect::kSbdh);
  endpoint_named(c, "jc")->sbdh_payload = SbdhPayload::kFhir;
  BrokerUnderTest b(c);
  ASSERT_EQ(b.post(fhir_file("care_communication.xml")).result(), http::status::accepted);
  ASSERT_TRUE(b.run_until([&] { return b.transport.count() > 0; }));
  b.settle();
  auto doc = adapters::parse_sbdh(b.transport.sent().front().body);
  ASSERT_TRUE(doc) << doc.error().detail;
  EXPECT_EQ(doc->mime_type, "application/fhir+xml");
  EXPECT_EQ(doc->standard, "care-communication-message");
  EXPECT_EQ(doc->message_id, "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b");
  auto sent = b.store->find_sent_envelope(doc->instance_id);
  ASSERT_TRUE(sent && sent->has_value());
}

TEST(SbdhPayloadTest, WhatThePayloadCannotCarryIsRefusedAtTheDoor) {
  Parties p;
  BrokerConfig c = test_config(p);
  endpoint_named(c, "psy")->dialect = Dialect::kSbdh;
  endpoint_named(c, "psy")->sbdh_payload = SbdhPayload::kOioxml;
  BrokerUnderTest b(c);
  const Envelope request = make_certificate_request(p.jc, p.psy, "ENV-R1", "R1", b.clock.now());
  const auto answer = b.post(request);
  EXPECT_EQ(answer.result(), http::status::unprocessable_entity);
  EXPECT_NE(answer.body().find("problem_med_version"), std::string::npos) << answer.body();
  EXPECT_NE(answer.body().find("sbdh with oioxml payloads"), std::string::npos) << answer.body();
  EXPECT_EQ(b.transport.count(), 0u);
}

}  // namespace
}  // namespace sektorbro::testing
