// MedCom FHIR messages ↔ native letters (issue 9, the "fhir" dialect). Pure; any thread.
//
//   CareCommunication (care-communication-message) ⇄ Correspondence: topic.text ⇄ subject,
//     contentString payloads ⇄ text (MedCom's <br/> in the string ⇄ '\n'), priority asap ⇄
//     høj_prioritet, contentAttachment ⇄ an attachment reference (URL), Patient name/address
//     ⇄ the Correspondence's patient details, Organizations (GLN, SOR, name) ⇄ parties.
//   HospitalNotification (hospital-notification-message) with a discharge event
//     (Provenance activity discharge-inpatient-home, revise-…, cancel-…) → DischargeNotice:
//     Encounter.period.start/end → admission/discharge dates (Copenhagen), revise → rettetbrev
//     and cancel → annulleretbrev of the SAME native letter (the one the Provenance entity
//     points at), so the mentor deadline opens, moves and closes as for a native notice;
//     mentor_entitled is true (a discharge notice to a jobcenter is what the mentor duty is
//     about, LAB § 31 b) and consent false (FHIR does not say). MedCom's other hospital-stay
//     events (admit-inpatient, admit-emergency, start-/end-leave-inpatient,
//     discharge-emergency-home, each with its revise-/cancel- form) → HospitalStayNotice, the
//     same way (revise/cancel the same letter), with the whole message kept as FHIR JSON; any
//     other activity: kUnsupportedType. A DischargeNotice or HospitalStayNotice goes back out
//     as a HospitalNotification with its event.
//   Acknowledgement: see fhir_receipts.hpp; here only the ids.
//
// Ids. Native ids are 1–14 characters of A-Z a-z 0-9 . _ -, FHIR ids are UUIDs. A native id is
// written as a version-8 UUID that holds it (uuid_for_native_id), so an Acknowledgement naming
// that UUID names the native letter exactly (native_id_in_uuid). A UUID from a FHIR sender
// becomes "F" + its first 13 hex digits (native_id_for_uuid): stable across resends, unique in
// practice (52 bits).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "adapters/fhir/fhir_message.hpp"
#include "broker/core/result.hpp"
#include "broker/message/message.hpp"

namespace sektorbro::adapters {

std::string uuid_for_native_id(std::string_view native_id);
std::optional<std::string> native_id_in_uuid(std::string_view uuid);
// The native id a FHIR id stands for: the one it holds if uuid_for_native_id made it, else
// "F" + 13 hex digits; "" for an id that is not a UUID.
std::string native_id_for_uuid(std::string_view uuid);

// The native envelope for a CareCommunication or a HospitalNotification hospital-stay event.
// Envelope id from Bundle.id, letter id from MessageHeader.id (or, for revise/cancel, from the
// MessageHeader the Provenance entity names). SOR codes are the Organizations'. The result
// passes validate_envelope at `received_at`. `whole_as_json` is the message as FHIR JSON: a
// HospitalStayNotice keeps it (HospitalStayNotice::fhir_message). Errors: kUnsupportedType for
// other events, kInvalid for what the native model cannot hold (no CPR, no subject or text,
// bad dates).
Result<Envelope> fhir_to_native(const FhirMessage& m, TimePoint received_at,
                                std::string_view whole_as_json = {});

// The FHIR message for a native envelope of one Correspondence, DischargeNotice or
// HospitalStayNotice letter
// (kUnsupportedType for other letter types: the FHIR dialect carries MedCom's messages only).
Result<FhirMessage> native_to_fhir(const Envelope& e);

}  // namespace sektorbro::adapters
