// Receipts of revised FHIR messages through the real broker (issue 9: "the Provenance chain and
// MessageHeader ids are kept so replies and acknowledgements correlate"; "SBDH envelope receipts
// correlate"). psy speaks MedCom FHIR R4 XML and sends a HospitalNotification discharge and then
// its revise- form: two FHIR messages (two MessageHeader.ids) that are one native letter. The
// jobcenter answers each message it got, in its own dialect and by its own path (a FHIR
// endpoint, an EHMI SBDH endpoint with a FHIR payload, a FHIR mailbox it fetches from, or
// native), and each answer must be the receipt of exactly the message it names — on that
// message's record, and relayed to psy as a FHIR Acknowledgement naming that message's own
// MessageHeader.id — whatever the order. An Acknowledgement naming an id the broker never
// delivered is refused in the acknowledger's dialect and changes nothing.
//
// The test messages are ours (tests/data/medcom/fhir/, each names the public MedCom example it
// follows); the Acknowledgements are written by our FHIR adapter in the form of MedCom's
// Acknowledgement example (tests/data/medcom/08_fhir_Acknowledgement_ok.xml) and the SBDH
// envelope in the form of EHMI's envelope example with a FHIR payload
// (tests/data/medcom/10_ehmiSBDH_envelope_with_FHIR_message.xml).
#include <functional>
#include <string>
#include <vector>

#include "adapters/fhir/fhir_acknowledgement.hpp"
#include "adapters/fhir/fhir_message.hpp"
#include "adapters/fhir/fhir_native.hpp"
#include "adapters/sbdh/sbdh_document.hpp"
#include "adapters/sbdh/sbdh_receipts.hpp"
#include "tests/integration/broker_fixture.hpp"
#include "tests/integration/medcom_fhir_test_message.hpp"

namespace sektorbro::testing {
namespace {

// The MessageHeader.ids and Bundle.ids of our discharge test message and its revision.
const std::string kFirstHeader = "2c4e6a8b-0d1f-4e3a-9b5c-7d9e1f3a5b7c";
const std::string kRevisionHeader = "3d5f7b9d-1e2a-4f4b-8c6d-8e0f2a4c6e8a";
const std::string kFirstBundle = "6e8a0c2e-4f6a-4b8c-9d0e-2f4a6c8e0a2c";
const std::string kRevisionBundle = "7f9b1d3f-5a7b-4c9d-8e1f-3a5b7d9f1b3d";
// A MessageHeader.id the broker never delivered.
const std::string kUnknownHeader = "9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f";

class MedcomFhirReceipts : public BrokerFixture {
 protected:
  MedcomFhirReceipts() {
    config["endpoints"][2]["dialect"] = "fhir";  // psy
    // No resends while the test answers: the receipts come when the test sends them.
    config["delivery"]["receipt_timeout_seconds"] = 7 * 24 * 3600;
  }

  std::string fhir_file(const std::string& name) const {
    return medcom_fhir_test_message(name, psy_party, jc_party);
  }

  HttpResult post_fhir(const std::string& xml) {
    return client.post(broker->url("/v1/messages"), xml, "application/fhir+xml");
  }

  // jc's Acknowledgement (ok) of the FHIR message `header_id`; `n` (one hex digit) keeps the
  // Acknowledgements' own ids apart in the first 13 hex digits the native ids are made of.
  adapters::FhirAcknowledgement ack_of(const std::string& header_id, char n) const {
    adapters::FhirAcknowledgement ack;
    ack.bundle_id = std::string("0a1b2c3") + n + "-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    ack.header_id = std::string("1a2b3c4") + n + "-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    ack.timestamp = clock.now();
    ack.response_identifier = header_id;
    ack.code = adapters::FhirAckCode::kOk;
    ack.sender = {jc_party.gln, jc_party.sor};
    ack.receiver = {psy_party.gln, psy_party.sor};
    ack.source_endpoint = "https://sor2.sum.dsdn.dk/#id=" + jc_party.sor;
    ack.destination_endpoint = "https://sor2.sum.dsdn.dk/#id=" + psy_party.sor;
    return ack;
  }

  // The same Acknowledgement in an EHMI SBDH envelope from jc to psy.
  std::string sbdh_ack_of(const std::string& header_id, char n) const {
    const adapters::FhirAcknowledgement ack = ack_of(header_id, n);
    adapters::SbdhDocument d;
    d.sender_gln = jc_party.gln;
    d.receiver_gln = psy_party.gln;
    d.standard = "acknowledgement-message";
    d.type_version = "4.0.1";
    d.instance_id = std::string("5c6d7e8") + n + "-9a0b-4c1d-8e2f-3a4b5c6d7e8f";
    d.type = "Bundle";
    d.created = clock.now();
    d.document_id =
        "urn:dk:healthcare:medcom:messaging:fhir:structuredefinition::acknowledgement-message"
        "##urn:dk:medcom:fhir:acknowledgement-message::4.0.1";
    d.sender_sor = jc_party.sor;
    d.receiver_sor = psy_party.sor;
    d.message_id = ack.header_id;
    d.message_envelope_id = ack.bundle_id;
    d.statistical_information = "MCM:acknowledgement-message";
    d.mime_type = "application/fhir+xml";
    d.payload = adapters::write_fhir_acknowledgement(ack);
    return adapters::write_sbdh(d);
  }

  // The Acknowledgements psy (the FHIR sender) has been relayed, in order.
  std::vector<adapters::FhirAcknowledgement> acks_at_psy() const {
    std::vector<adapters::FhirAcknowledgement> out;
    for (const auto& r : psy.received())
      if (auto a = adapters::parse_fhir_acknowledgement(r.body)) out.push_back(std::move(*a));
    return out;
  }

  // psy's stored message carried in the FHIR Bundle `bundle_id` (its native envelope id).
  nlohmann::json psy_message(const std::string& bundle_id) {
    const auto found = get_json("/v1/messages?envelope=" + adapters::native_id_for_uuid(bundle_id));
    for (const auto& m : found.value("messages", nlohmann::json::array()))
      if (m["sender"]["gln"] == psy_party.gln) return m;
    return nlohmann::json{};
  }
  std::string receipt_of(const std::string& bundle_id) {
    return psy_message(bundle_id).value("receipt", "?");
  }
  // The timeline of the letter's latest version (the revision), as operators see it.
  int receipt_events_on_revision() {
    const auto letter = adapters::native_id_for_uuid(kFirstHeader);
    int n = 0;
    for (const auto& e : message(psy_party, letter).value("timeline", nlohmann::json::array()))
      if (e.value("event", "") == "receipt") ++n;
    return n;
  }

  // psy sends the discharge; once jc has it (`delivered` says so), the revision.
  void send_discharge_then_revision(const std::function<bool(int)>& delivered) {
    const HttpResult first = post_fhir(fhir_file("hospital_notification_discharge.xml"));
    ASSERT_EQ(first.status, 202) << first.body;
    ASSERT_TRUE(eventually([&] { return delivered(1); }));
    const HttpResult revision = post_fhir(fhir_file("hospital_notification_revise_discharge.xml"));
    ASSERT_EQ(revision.status, 202) << revision.body;
    ASSERT_TRUE(eventually([&] { return delivered(2); }));
    ASSERT_EQ(psy_message(kFirstBundle).value("receipt", ""), "none");
    ASSERT_EQ(psy_message(kRevisionBundle).value("receipt", ""), "none");
  }

  // Both messages answered, the revision's receipt first (`answer` posts jc's receipt for a
  // MessageHeader.id, and returns the HTTP status): each lands on its own message and psy is
  // told of each by the MessageHeader.id it sent.
  void answer_revision_then_first(const std::function<int(const std::string&, char)>& answer) {
    ASSERT_EQ(answer(kRevisionHeader, '2'), 202);
    ASSERT_TRUE(eventually([&] { return acks_at_psy().size() >= 1; }));
    EXPECT_EQ(receipt_of(kRevisionBundle), "positive");
    EXPECT_EQ(receipt_of(kFirstBundle), "none");
    EXPECT_EQ(receipt_events_on_revision(), 1);

    ASSERT_EQ(answer(kFirstHeader, '1'), 202);
    ASSERT_TRUE(eventually([&] { return acks_at_psy().size() >= 2; }));
    EXPECT_EQ(receipt_of(kFirstBundle), "positive");
    EXPECT_EQ(receipt_events_on_revision(), 1);  // the first's receipt is not the revision's

    const auto acks = acks_at_psy();
    ASSERT_EQ(acks.size(), 2u);
    EXPECT_EQ(acks[0].response_identifier, kRevisionHeader);
    EXPECT_EQ(acks[1].response_identifier, kFirstHeader);
    for (const auto& a : acks) {
      EXPECT_EQ(a.code, adapters::FhirAckCode::kOk);
      EXPECT_EQ(a.sender.gln, jc_party.gln);
      EXPECT_EQ(a.receiver.gln, psy_party.gln);
      EXPECT_EQ(a.destination_endpoint, "https://sor2.sum.dsdn.dk/#id=" + psy_party.sor);
    }
  }

  // The FHIR MessageHeader.ids jc was pushed, in order (plain FHIR endpoint).
  std::vector<std::string> headers_at_jc() const {
    std::vector<std::string> out;
    for (const auto& r : jc.received())
      if (auto m = adapters::parse_fhir_message(r.body)) out.push_back(m->header_id);
    return out;
  }
};

// Gap found in the last session: the receipt relayed to psy named the MessageHeader.id of the
// letter's newest version, so an Acknowledgement of the first notification that came after the
// revision reached psy as the revision's.
TEST_F(MedcomFhirReceipts, AFhirJobcentersAcknowledgementsReachTheSenderNamingTheMessageAnswered) {
  config["endpoints"][0]["dialect"] = "fhir";  // jc
  start();
  send_discharge_then_revision([&](int n) { return headers_at_jc().size() >= std::size_t(n); });
  EXPECT_EQ(headers_at_jc(), (std::vector<std::string>{kFirstHeader, kRevisionHeader}));
  answer_revision_then_first([&](const std::string& header, char n) {
    return post_fhir(adapters::write_fhir_acknowledgement(ack_of(header, n))).status;
  });
}

// A native jobcenter names the envelope it received: its receipt of the first notification is
// that notification's, on the broker's record and in the Acknowledgement relayed to psy.
TEST_F(MedcomFhirReceipts, ANativeJobcentersReceiptOfTheFirstVersionIsThatVersionsReceipt) {
  start();
  send_discharge_then_revision([&](int n) {
    return envelopes_of(jc, LetterType::kDischargeNotice).size() >= std::size_t(n);
  });
  const auto got = envelopes_of(jc, LetterType::kDischargeNotice);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, adapters::native_id_for_uuid(kFirstBundle));
  EXPECT_EQ(got[1].id, adapters::native_id_for_uuid(kRevisionBundle));
  answer_revision_then_first([&](const std::string& header, char n) {
    const Envelope& answered = header == kFirstHeader ? got[0] : got[1];
    return post(make_positive_receipt(answered, std::string("JC-KVIT-") + n,
                                      std::string("JC-KV-") + n, clock.now()))
        .status;
  });
}

// An EHMI SBDH endpoint with a FHIR payload: the Acknowledgement comes inside an SBDH envelope.
TEST_F(MedcomFhirReceipts, AnAcknowledgementInAnSbdhEnvelopeIsTheReceiptOfTheMessageItNames) {
  config["endpoints"][0]["dialect"] = "sbdh";  // jc
  config["endpoints"][0]["sbdh_payload"] = "fhir";
  start();
  const auto headers = [&] {
    std::vector<std::string> out;
    for (const auto& r : jc.received()) {
      auto d = adapters::parse_sbdh(r.body);
      if (!d) continue;
      auto m = adapters::parse_fhir_message(d->payload);
      if (m && d->message_id == m->header_id) out.push_back(m->header_id);
    }
    return out;
  };
  send_discharge_then_revision([&](int n) { return headers().size() >= std::size_t(n); });
  EXPECT_EQ(headers(), (std::vector<std::string>{kFirstHeader, kRevisionHeader}));

  // One naming a message the broker never sent jc is refused with EHMI's ReceiptException,
  // pointing back at the envelope, and changes nothing.
  const HttpResult unknown =
      client.post(broker->url("/v1/messages"), sbdh_ack_of(kUnknownHeader, '9'), "application/xml");
  EXPECT_EQ(unknown.status, 422) << unknown.body;
  auto refusal = adapters::parse_sbdh(unknown.body);
  ASSERT_TRUE(refusal) << unknown.body;
  ASSERT_TRUE(adapters::is_envelope_receipt(*refusal)) << unknown.body;
  auto signal = adapters::read_signal(*refusal);
  ASSERT_TRUE(signal) << signal.error().detail;
  EXPECT_TRUE(signal->exception);
  EXPECT_EQ(signal->exception_type, "Sequence");
  EXPECT_EQ(refusal->receiver_gln, jc_party.gln);
  EXPECT_EQ(refusal->original_envelope_id, "5c6d7e89-9a0b-4c1d-8e2f-3a4b5c6d7e8f");
  EXPECT_EQ(receipt_of(kFirstBundle), "none");
  EXPECT_EQ(receipt_of(kRevisionBundle), "none");

  answer_revision_then_first([&](const std::string& header, char n) {
    return client.post(broker->url("/v1/messages"), sbdh_ack_of(header, n), "application/xml")
        .status;
  });
  EXPECT_TRUE(acks_at_psy().size() == 2u);  // the refused one was relayed to nobody
}

// A FHIR jobcenter that fetches from its mailbox and posts its Acknowledgements.
TEST_F(MedcomFhirReceipts, AnAcknowledgementOfAMessageFetchedFromTheMailboxIsItsReceipt) {
  config["endpoints"][0]["dialect"] = "fhir";  // jc
  config["endpoints"][0]["url"] = "mailbox:";
  start();
  std::vector<std::string> fetched;  // MessageHeader.ids, in the order fetched and confirmed
  const auto fetch_all = [&](int want) {
    const auto got = get_json("/v1/mailbox?endpoint=jc");
    for (const auto& m : got.value("messages", nlohmann::json::array())) {
      auto fhir = adapters::parse_fhir_message(m["body"].get<std::string>());
      if (!fhir) continue;
      fetched.push_back(fhir->header_id);
      const auto confirmed = client.post(
          broker->url("/v1/mailbox/" + std::to_string(m["message_id"].get<std::int64_t>()) +
                      "/confirm?endpoint=jc"),
          "");
      EXPECT_EQ(confirmed.status, 200) << confirmed.body;
    }
    return fetched.size() >= std::size_t(want);
  };
  send_discharge_then_revision(fetch_all);
  EXPECT_TRUE(jc.received().empty());  // nothing pushed
  EXPECT_EQ(fetched, (std::vector<std::string>{kFirstHeader, kRevisionHeader}));

  // One naming a message the broker never delivered is refused with a FHIR fatal-error
  // Acknowledgement to jc, and changes nothing.
  const HttpResult unknown =
      post_fhir(adapters::write_fhir_acknowledgement(ack_of(kUnknownHeader, '9')));
  EXPECT_EQ(unknown.status, 422) << unknown.body;
  auto refusal = adapters::parse_fhir_acknowledgement(unknown.body);
  ASSERT_TRUE(refusal) << unknown.body;
  EXPECT_EQ(refusal->code, adapters::FhirAckCode::kFatalError);
  EXPECT_EQ(refusal->receiver.gln, jc_party.gln);
  EXPECT_EQ(refusal->response_identifier, ack_of(kUnknownHeader, '9').header_id);
  EXPECT_EQ(receipt_of(kFirstBundle), "none");
  EXPECT_EQ(receipt_of(kRevisionBundle), "none");

  answer_revision_then_first([&](const std::string& header, char n) {
    return post_fhir(adapters::write_fhir_acknowledgement(ack_of(header, n))).status;
  });
  EXPECT_EQ(acks_at_psy().size(), 2u);
}

}  // namespace
}  // namespace sektorbro::testing
