// MedCom FHIR messages ↔ native letters. The inputs are our own test messages in
// tests/data/medcom/fhir/, each saying which public MedCom example it follows (CareCommunication:
// dk-medcom-carecommunication Flow1-CareCommunication_Ex_from_OIOXML.xml; HospitalNotification:
// dk-medcom-hospitalnotification HospitalNotification_Ex_STIN_L, turned into a discharge).
#include <gtest/gtest.h>

#include <fstream>
#include <variant>

#include "adapters/fhir/fhir_message.hpp"
#include "adapters/fhir/fhir_native.hpp"
#include "broker/codec/codec.hpp"

namespace sektorbro::adapters {
namespace {

std::string fhir_file(const std::string& name) {
  std::ifstream in(std::string(SEKTORBRO_SOURCE_DIR) + "/tests/data/medcom/fhir/" + name,
                   std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

const TimePoint kNow = *parse_timestamp("2026-11-20T09:31:00+01:00");

TEST(FhirIds, NativeIdsTravelInsideUuidsAndComeBackExactly) {
  for (const char* id : {"A", "JCA-2026-0042", "SB0123456789AB", "x.y_z"}) {
    const std::string uuid = uuid_for_native_id(id);
    ASSERT_EQ(uuid.size(), 36u);
    EXPECT_EQ(uuid[14], '8') << uuid;  // version 8
    EXPECT_EQ(native_id_in_uuid(uuid), std::optional<std::string>(id)) << uuid;
    EXPECT_EQ(native_id_for_uuid(uuid), id);
  }
  EXPECT_NE(uuid_for_native_id("E1"), uuid_for_native_id("E2"));
  // A sender's v4 UUID: a stable 14-character native id.
  EXPECT_EQ(native_id_for_uuid("0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b"), "F0b9e8d7c6f5a4");
  EXPECT_EQ(native_id_for_uuid("urn:uuid:0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b"), "F0b9e8d7c6f5a4");
  EXPECT_FALSE(native_id_in_uuid("0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b").has_value());
  EXPECT_EQ(native_id_for_uuid("not-a-uuid"), "");
}

TEST(FhirMessage, CareCommunicationBecomesACorrespondenceWithEveryField) {
  auto m = parse_fhir_message(fhir_file("care_communication.xml"));
  ASSERT_TRUE(m.ok()) << m.error().detail;
  EXPECT_EQ(m->event, kEventCareCommunication);
  EXPECT_EQ(m->sender.gln, "5790000678907");
  EXPECT_EQ(m->receiver.sor, "123451000016001");
  EXPECT_EQ(m->patient.given, "Nanna Marie");
  auto env = fhir_to_native(*m, kNow);
  ASSERT_TRUE(env.ok()) << env.error().detail;
  ASSERT_EQ(env->letters.size(), 1u);
  const Letter& l = env->letters[0];
  EXPECT_EQ(env->id, "F7d1c2f3a5b6e4");
  EXPECT_EQ(l.id, "F0b9e8d7c6f5a4");
  EXPECT_EQ(l.fhir_message_id, "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b");
  EXPECT_EQ(l.sender.gln, "5790000678907");
  EXPECT_EQ(l.sender.sor, "265161000016000");
  EXPECT_EQ(l.sender.name, "Psykiatrien Region Midt");
  EXPECT_EQ(l.receiver.gln, "5790000123452");
  EXPECT_EQ(l.patient->cpr, "0101801234");
  const auto& c = std::get<Correspondence>(l.body);
  EXPECT_EQ(c.subject, "Mentorforløb efter udskrivning");
  EXPECT_EQ(c.text, "Borgeren udskrives snart.\nVi foreslår et møde.\n\nVenlig hilsen");
  EXPECT_EQ(c.priority, "høj_prioritet");
  EXPECT_EQ(c.patient_details.surname, "Jensen");
  EXPECT_EQ(c.patient_details.given_name, "Nanna Marie");
  EXPECT_EQ(c.patient_details.address.street, "Testvej 1");
  EXPECT_EQ(c.patient_details.address.post_code, "8000");
  // Stored natively and read back: the same letter.
  auto stored = decode_envelope(encode_envelope(*env));
  ASSERT_TRUE(stored.ok()) << stored.error().detail;
  EXPECT_EQ(*stored, *env);
}

TEST(FhirMessage, CorrespondenceGoesOutAsCareCommunicationAndReadsBackTheSame) {
  auto env = fhir_to_native(*parse_fhir_message(fhir_file("care_communication.xml")), kNow);
  ASSERT_TRUE(env.ok());
  auto out = native_to_fhir(*env);
  ASSERT_TRUE(out.ok()) << out.error().detail;
  const std::string bytes = write_fhir_message(*out);
  auto back = parse_fhir_message(bytes);
  ASSERT_TRUE(back.ok()) << back.error().detail << "\n" << bytes;
  EXPECT_EQ(*back, *out);
  // The sender's own MessageHeader.id travels with the letter (Letter::fhir_message_id), so a
  // relay and every acknowledgement name it.
  EXPECT_EQ(back->header_id, "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b");
  auto again = fhir_to_native(*back, kNow);
  ASSERT_TRUE(again.ok()) << again.error().detail;
  EXPECT_EQ(*again, *env);
}

TEST(FhirMessage, DischargeNotificationBecomesADischargeNotice) {
  auto m = parse_fhir_message(fhir_file("hospital_notification_discharge.xml"));
  ASSERT_TRUE(m.ok()) << m.error().detail;
  EXPECT_EQ(m->encounter_status, "finished");
  auto env = fhir_to_native(*m, kNow);
  ASSERT_TRUE(env.ok()) << env.error().detail;
  const Letter& l = env->letters[0];
  EXPECT_EQ(l.type(), LetterType::kDischargeNotice);
  EXPECT_EQ(l.status, LetterStatus::kNew);
  EXPECT_EQ(l.id, "F2c4e6a8b0d1f4");
  const auto& n = std::get<DischargeNotice>(l.body);
  EXPECT_EQ(format_date(n.admission_date), "2026-10-01");
  EXPECT_EQ(format_date(n.discharge_date), "2026-12-04");
  EXPECT_TRUE(n.mentor_entitled);
  EXPECT_EQ(n.department, "Psykiatrisk afsnit P3");

  // Out again as a HospitalNotification discharge, and back to the same notice.
  auto out = native_to_fhir(*env);
  ASSERT_TRUE(out.ok()) << out.error().detail;
  EXPECT_EQ(out->provenances.at(0).activity, "discharge-inpatient-home");
  auto back = fhir_to_native(*parse_fhir_message(write_fhir_message(*out)), kNow);
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(*back, *env);
}

// A revision and a cancellation are new FHIR messages naming the original in Provenance.entity;
// natively they are the same letter, corrected or cancelled, so the mentor deadline moves or
// closes as for a native notice.
TEST(FhirMessage, ReviseAndCancelAreTheSameNativeLetter) {
  auto revise = fhir_to_native(
      *parse_fhir_message(fhir_file("hospital_notification_revise_discharge.xml")), kNow);
  ASSERT_TRUE(revise.ok()) << revise.error().detail;
  EXPECT_EQ(revise->letters[0].id, "F2c4e6a8b0d1f4");
  EXPECT_EQ(revise->letters[0].status, LetterStatus::kCorrected);
  EXPECT_EQ(format_date(std::get<DischargeNotice>(revise->letters[0].body).discharge_date),
            "2026-12-09");
  auto cancel = fhir_to_native(
      *parse_fhir_message(fhir_file("hospital_notification_cancel_discharge.xml")), kNow);
  ASSERT_TRUE(cancel.ok()) << cancel.error().detail;
  EXPECT_EQ(cancel->letters[0].id, "F2c4e6a8b0d1f4");
  EXPECT_EQ(cancel->letters[0].status, LetterStatus::kCancelled);
  // Written back out: still a cancel naming the original.
  auto out = native_to_fhir(*cancel);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->provenances.at(0).activity, "cancel-discharge-inpatient-home");
  EXPECT_EQ(out->provenances.at(0).entities.at(0),
            "MessageHeader/" + uuid_for_native_id("F2c4e6a8b0d1f4"));
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

// Issue 9: MedCom's hospital-stay events other than the inpatient discharge become a
// HospitalStayNotice. The admission is our test message (modelled on MedCom's
// HospitalNotification_Ex_STIN_L); the others are it with the activity, class and status MedCom's
// examples give those events (medcomdk/dk-medcom-hospitalnotification input/fsh/Testexamples:
// HospitalNotification_Ex_STAA_D, _STOR_F, _SLOR_G, _TEK_SLHJ_A).
TEST(FhirMessage, EveryOtherHospitalStayEventBecomesAHospitalStayNotice) {
  const std::string admit = fhir_file("hospital_notification_admit.xml");
  auto message = parse_fhir_message(admit);
  ASSERT_TRUE(message.ok()) << message.error().detail;
  auto e = fhir_to_native(*message, kNow, "{\"resourceType\": \"Bundle\"}\n");
  ASSERT_TRUE(e.ok()) << e.error().detail;
  ASSERT_EQ(e->letters.size(), 1u);
  const Letter& l = e->letters[0];
  EXPECT_EQ(l.type(), LetterType::kHospitalStayNotice);
  EXPECT_EQ(l.status, LetterStatus::kNew);
  EXPECT_EQ(l.id, native_id_for_uuid(message->header_id));
  EXPECT_EQ(l.patient->cpr, "0101801234");
  const auto& n = std::get<HospitalStayNotice>(l.body);
  EXPECT_EQ(n.event, HospitalStayEvent::kAdmitInpatient);
  EXPECT_EQ(n.stay_start, "2026-10-01T12:00:00+02:00");
  EXPECT_EQ(n.stay_end, "");
  EXPECT_EQ(n.event_time, "2026-11-20T09:29:00+01:00");
  EXPECT_EQ(n.encounter_status, "in-progress");
  EXPECT_EQ(n.encounter_class, "IMP");
  EXPECT_EQ(n.department, "Psykiatrisk afsnit P3");
  EXPECT_EQ(n.fhir_message, "{\"resourceType\": \"Bundle\"}");  // kept, as given

  struct Variant {
    std::string activity, klass, status;
    HospitalStayEvent event;
  };
  for (const Variant& v : {Variant{"admit-emergency", "EMER", "in-progress",
                                   HospitalStayEvent::kAdmitEmergency},
                           Variant{"start-leave-inpatient", "IMP", "onleave",
                                   HospitalStayEvent::kStartLeave},
                           Variant{"end-leave-inpatient", "IMP", "in-progress",
                                   HospitalStayEvent::kEndLeave},
                           Variant{"discharge-emergency-home", "EMER", "finished",
                                   HospitalStayEvent::kDischargeEmergency}}) {
    std::string xml = admit;
    replace_all(xml, "<code value=\"admit-inpatient\"/>", "<code value=\"" + v.activity + "\"/>");
    replace_all(xml, "<code value=\"IMP\"/>", "<code value=\"" + v.klass + "\"/>");
    replace_all(xml, "<status value=\"in-progress\"/>", "<status value=\"" + v.status + "\"/>");
    auto m = parse_fhir_message(xml);
    ASSERT_TRUE(m.ok()) << v.activity;
    auto env = fhir_to_native(*m, kNow);
    ASSERT_TRUE(env.ok()) << v.activity << ": " << env.error().detail;
    const auto& s = std::get<HospitalStayNotice>(env->letters[0].body);
    EXPECT_EQ(s.event, v.event) << v.activity;
    EXPECT_EQ(s.encounter_class, v.klass);
    EXPECT_EQ(s.encounter_status, v.status);
    // And back: the same event, class, status and period (written from the native letter).
    auto back = native_to_fhir(*env);
    ASSERT_TRUE(back.ok()) << back.error().detail;
    EXPECT_EQ(back->event, kEventHospitalNotification);
    ASSERT_EQ(back->provenances.size(), 1u);
    EXPECT_EQ(back->provenances[0].activity, v.activity);
    EXPECT_EQ(back->encounter_class, v.klass);
    EXPECT_EQ(back->encounter_status, v.status);
    EXPECT_EQ(back->period_start, m->period_start);
    auto again = fhir_to_native(*parse_fhir_message(write_fhir_message(*back)), kNow);
    ASSERT_TRUE(again.ok()) << again.error().detail;
    EXPECT_EQ(again->letters[0].body, env->letters[0].body);
  }

  // revise-/cancel-: the same letter, corrected / cancelled.
  for (const auto& [prefix, status] : {std::pair{"revise-", LetterStatus::kCorrected},
                                       std::pair{"cancel-", LetterStatus::kCancelled}}) {
    std::string xml = admit;
    replace_all(xml, "<code value=\"admit-inpatient\"/>",
                "<code value=\"" + std::string(prefix) + "admit-inpatient\"/>");
    const std::string entity =
        "<entity><role value=\"revision\"/><what><reference "
        "value=\"MessageHeader/" + message->header_id + "\"/></what></entity>";
    replace_all(xml, "5f7b9d1f-3a4c-4b6d-8e8f-0a2b4c6d8e0a",
                "6a8c0e2f-3a4c-4b6d-8e8f-0a2b4c6d8e0b");  // the revision's own MessageHeader
    replace_all(xml, "</agent>", "</agent>" + entity);
    auto m = parse_fhir_message(xml);
    ASSERT_TRUE(m.ok()) << m.error().detail;
    auto env = fhir_to_native(*m, kNow);
    ASSERT_TRUE(env.ok()) << prefix << ": " << env.error().detail;
    EXPECT_EQ(env->letters[0].status, status);
    EXPECT_EQ(env->letters[0].type(), LetterType::kHospitalStayNotice);
  }
}

TEST(FhirMessage, WhatHasNoNativeLetterIsUnsupported) {
  // An activity that is none of MedCom's hospital-stay events.
  std::string xml = fhir_file("hospital_notification_admit.xml");
  replace_all(xml, "<code value=\"admit-inpatient\"/>", "<code value=\"transfer-inpatient\"/>");
  auto unknown = fhir_to_native(*parse_fhir_message(xml), kNow);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, Errc::kUnsupportedType);
  EXPECT_NE(unknown.error().detail.find("hospital-stay events"), std::string::npos);
  Envelope e = *fhir_to_native(*parse_fhir_message(fhir_file("care_communication.xml")), kNow);
  e.letters[0].body = Reminder{};
  auto r = native_to_fhir(e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kUnsupportedType);
}

TEST(FhirMessage, BrokenBundlesAreRefusedWithAPath) {
  std::string bytes = fhir_file("care_communication.xml");
  const std::string sender = "<sender><reference value=\"Organization/f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9\"/></sender>";
  bytes.replace(bytes.find(sender), sender.size(), "");
  auto r = parse_fhir_message(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail, "Bundle/entry[1]/MessageHeader/sender/reference: missing");
  EXPECT_EQ(r.error().detail.find("0101801234"), std::string::npos);
  EXPECT_FALSE(parse_fhir_message("<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"message\"/>").ok());
  EXPECT_EQ(fhir_event_of(fhir_file("care_communication.xml")), kEventCareCommunication);
  EXPECT_EQ(fhir_event_of("<Emessage/>"), "");
}

}  // namespace
}  // namespace sektorbro::adapters
