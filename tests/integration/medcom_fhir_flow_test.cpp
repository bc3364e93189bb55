// The FHIR dialect through the real broker (issue 9 item 3): psy speaks MedCom FHIR R4 XML, the
// jobcenters native. The inputs are our own test messages in tests/data/medcom/fhir/, each
// saying which public MedCom example it follows (CareCommunication: dk-medcom-carecommunication
// Flow1-CareCommunication_Ex_from_OIOXML.xml; HospitalNotification: dk-medcom-
// hospitalnotification HospitalNotification_Ex_STIN_L, turned into a discharge), readdressed
// to the fixture's parties.
#include <chrono>
#include <fstream>
#include <sstream>

#include "adapters/fhir/fhir_acknowledgement.hpp"
#include "adapters/fhir/fhir_message.hpp"
#include "adapters/fhir/fhir_native.hpp"
#include "broker/core/copenhagen_time.hpp"
#include "tests/integration/broker_fixture.hpp"
#include "tests/integration/ctl_runner.hpp"
#include "tests/integration/medcom_fhir_test_message.hpp"

namespace sektorbro::testing {
namespace {

class MedcomFhirFlow : public BrokerFixture {
 protected:
  MedcomFhirFlow() {
    for (auto& e : config["endpoints"]) e["accepts"].push_back("Correspondence");
    config["endpoints"][2]["dialect"] = "fhir";  // psy
    // The receivers here send no receipts; keep the broker's resends out of the way.
    config["delivery"]["receipt_timeout_seconds"] = 7 * 24 * 3600;
  }
  // A test message from psy (FHIR) to `to`.
  std::string fhir_file(const std::string& name, const Party& to) const {
    return medcom_fhir_test_message(name, psy_party, to);
  }
  std::vector<adapters::FhirMessage> fhir_received(const HttpReceiver& r) {
    std::vector<adapters::FhirMessage> out;
    for (const auto& req : r.received())
      if (auto m = adapters::parse_fhir_message(req.body)) out.push_back(std::move(*m));
    return out;
  }
};

TEST_F(MedcomFhirFlow, ACareCommunicationGoesToANativeJobcenterAndTheReplyComesBackInFhir) {
  start();
  const HttpResult in = post_raw(fhir_file("care_communication.xml", jc_party));
  ASSERT_EQ(in.status, 202) << in.body;

  // jc gets the native Correspondence, every field of the CareCommunication in place.
  ASSERT_TRUE(eventually([&] { return !envelopes_of(jc, LetterType::kCorrespondence).empty(); }));
  const Envelope got = envelopes_of(jc, LetterType::kCorrespondence).front();
  ASSERT_EQ(got.letters.size(), 1u);
  const Letter& l = got.letters[0];
  EXPECT_EQ(got.id, "F7d1c2f3a5b6e4");  // Bundle.id
  EXPECT_EQ(l.id, "F0b9e8d7c6f5a4");    // MessageHeader.id
  EXPECT_EQ(l.fhir_message_id, "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b");
  EXPECT_EQ(l.sender.gln, psy_party.gln);
  EXPECT_EQ(l.sender.sor, psy_party.sor);
  EXPECT_EQ(l.receiver.gln, jc_party.gln);
  EXPECT_EQ(l.receiver.sor, jc_party.sor);
  ASSERT_TRUE(l.patient);
  EXPECT_EQ(l.patient->cpr, "0101801234");
  const auto& c = std::get<Correspondence>(l.body);
  EXPECT_EQ(c.subject, "Mentorforløb efter udskrivning");
  EXPECT_EQ(c.text, "Borgeren udskrives snart.\nVi foreslår et møde.\n\nVenlig hilsen");
  EXPECT_EQ(c.priority, "høj_prioritet");
  EXPECT_EQ(c.patient_details.surname, "Jensen");
  EXPECT_EQ(c.patient_details.given_name, "Nanna Marie");
  EXPECT_EQ(c.patient_details.address.street, "Testvej 1");
  EXPECT_EQ(c.patient_details.address.post_code, "8000");

  // jc answers natively; psy gets it as a CareCommunication with the same fields.
  Envelope reply = got;
  reply.id = "JC-SVAR-ENV";
  reply.sent = clock.now();
  Letter& r = reply.letters[0];
  r.id = "JC-SVAR-1";
  r.fhir_message_id.clear();
  r.authorised = clock.now();
  std::swap(r.sender, r.receiver);
  auto& rc = std::get<Correspondence>(r.body);
  rc.subject = "Svar: mentorforløb";
  rc.text = "Tak for henvendelsen.\nVi deltager gerne.";
  std::swap(rc.sender_details, rc.receiver_details);
  const HttpResult out = post(reply);
  ASSERT_EQ(out.status, 202) << out.body;
  ASSERT_TRUE(eventually([&] { return !fhir_received(psy).empty(); }));
  const adapters::FhirMessage m = fhir_received(psy).front();
  EXPECT_EQ(m.event, "care-communication-message");
  EXPECT_EQ(m.sender.gln, jc_party.gln);
  EXPECT_EQ(m.sender.sor, jc_party.sor);
  EXPECT_EQ(m.receiver.gln, psy_party.gln);
  EXPECT_EQ(m.receiver.sor, psy_party.sor);
  EXPECT_EQ(m.destination_endpoint, "https://sor2.sum.dsdn.dk/#id=" + psy_party.sor);
  EXPECT_EQ(m.patient.cpr, "0101801234");
  EXPECT_EQ(m.patient.family, "Jensen");
  EXPECT_EQ(m.patient.given, "Nanna Marie");
  EXPECT_EQ(m.topic, "Svar: mentorforløb");
  ASSERT_FALSE(m.payloads.empty());
  EXPECT_EQ(m.payloads[0].text, "Tak for henvendelsen.<br/>Vi deltager gerne.");
  EXPECT_EQ(m.priority, "asap");
  // The broker's UUID for the native letter id names the native letter exactly.
  EXPECT_EQ(adapters::native_id_for_uuid(m.header_id), "JC-SVAR-1");
}

TEST_F(MedcomFhirFlow, AHospitalNotificationDischargeOpensTheMentorDeadlineWithItsLeadTime) {
  start();
  const Date today = copenhagen_date(clock.now());
  const HttpResult in = post_raw(fhir_file("hospital_notification_discharge.xml", jc_party));
  ASSERT_EQ(in.status, 202) << in.body;
  // The test message's Encounter.period.end: 2026-12-04 (Copenhagen).
  const Date discharge{std::chrono::year{2026}, std::chrono::month{12}, std::chrono::day{4}};
  const int lead =
      static_cast<int>((std::chrono::sys_days{discharge} - std::chrono::sys_days{today}).count());

  ASSERT_TRUE(eventually([&] { return !envelopes_of(jc, LetterType::kDischargeNotice).empty(); }));
  const auto open = get_json("/v1/deadlines?view=open&kind=mentor-response")["deadlines"];
  ASSERT_EQ(open.size(), 1u) << open.dump();
  EXPECT_EQ(open[0]["lead_time_days"], lead) << open.dump();
  EXPECT_EQ(open[0]["notice_late"], lead < 0);

  const std::string month = format_date(today).substr(0, 7);
  const auto stats = get_json("/v1/stats/mentor-responses?from=" + month + "&to=" + month);
  ASSERT_EQ(stats["rows"].size(), 1u) << stats.dump();
  EXPECT_EQ(stats["rows"][0]["jobcenter"], "jc");
  EXPECT_EQ(stats["rows"][0]["received"], 1);
  EXPECT_EQ(stats["rows"][0]["median_lead_time_days"], static_cast<double>(lead));

  // The operator's view: sektorbro-ctl stats mentor-responses, the jc row with its lead time.
  const CtlResult ctl =
      run_ctl({"--broker", broker->url(""), "stats", "mentor-responses", month, month},
              {{"HOME", dir.path()}}, dir.path());
  ASSERT_EQ(ctl.status, 0) << ctl.err;
  const auto rows = lines_starting(ctl.out, "jc ");
  ASSERT_EQ(rows.size(), 1u) << ctl.out;
  const auto cols = words(rows[0]);
  ASSERT_GE(cols.size(), 11u) << rows[0];
  EXPECT_EQ(cols[1], month);
  EXPECT_EQ(std::stod(cols[10]), static_cast<double>(lead)) << ctl.out;
}

TEST_F(MedcomFhirFlow, WhatTheReceiverCannotTakeGetsAFatalErrorAcknowledgement) {
  config["endpoints"][0]["dialect"] = "oioxml";  // jc: OIOXML has no discharge notice
  start();
  const HttpResult refused = post_raw(fhir_file("hospital_notification_discharge.xml", jc_party));
  EXPECT_EQ(refused.status, 422) << refused.body;
  auto ack = adapters::parse_fhir_acknowledgement(refused.body);
  ASSERT_TRUE(ack) << ack.error().detail << "\n" << refused.body;
  EXPECT_EQ(ack->code, adapters::FhirAckCode::kFatalError);
  // It answers the sender's own MessageHeader.id, addressed to the sender.
  auto sent =
      adapters::parse_fhir_message(fhir_file("hospital_notification_discharge.xml", jc_party));
  ASSERT_TRUE(sent);
  EXPECT_EQ(ack->response_identifier, sent->header_id);
  EXPECT_EQ(ack->receiver.gln, psy_party.gln);
  EXPECT_EQ(ack->destination_endpoint, "https://sor2.sum.dsdn.dk/#id=" + psy_party.sor);
  ASSERT_FALSE(ack->issues.empty());
  // MedCom's code for a message type the receiver cannot take (problem_med_version in OIOXML).
  EXPECT_EQ(ack->issues[0].detail_code, "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE");
  EXPECT_TRUE(jc.received().empty());
  EXPECT_TRUE(get_json("/v1/deadlines?view=open&kind=mentor-response")["deadlines"].empty());
}

TEST_F(MedcomFhirFlow, ATransientErrorAcknowledgementIsTakenAndRecordsNoReceipt) {
  start();
  // MedCom's public Acknowledgement example, readdressed, with its code turned transient.
  std::ifstream f(
      std::string(SEKTORBRO_SOURCE_DIR) + "/tests/data/medcom/08_fhir_Acknowledgement_ok.xml",
      std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  auto ack = adapters::parse_fhir_acknowledgement(s.str());
  ASSERT_TRUE(ack) << ack.error().detail;
  ack->code = adapters::FhirAckCode::kTransientError;
  adapters::FhirAckIssue busy;  // an error acknowledgement carries its issue
  busy.severity = "error";
  busy.code = "transient";
  busy.diagnostics = "the receiving system is busy; send again later";
  ack->issues = {busy};
  ack->sender.gln = psy_party.gln;
  ack->sender.sor = psy_party.sor;
  ack->receiver.gln = jc_party.gln;
  ack->receiver.sor = jc_party.sor;
  const HttpResult in = post_raw(adapters::write_fhir_acknowledgement(*ack));
  EXPECT_EQ(in.status, 202) << in.body;
  EXPECT_TRUE(jc.received().empty());
  EXPECT_NE(broker->log().find("transient-error Acknowledgement"), std::string::npos);
}

}  // namespace
}  // namespace sektorbro::testing
