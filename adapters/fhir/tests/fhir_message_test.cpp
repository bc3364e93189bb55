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

TEST(FhirMessage, WhatHasNoNativeLetterIsUnsupported) {
  auto admit = fhir_to_native(*parse_fhir_message(fhir_file("hospital_notification_admit.xml")),
                              kNow);
  ASSERT_FALSE(admit.ok());
  EXPECT_EQ(admit.error().code, Errc::kUnsupportedType);
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
