// MedCom FHIR messages other than the Acknowledgement (domain.md §9) as a value, and FHIR R4 XML
// ↔ value: a Bundle of type message whose first entry is a MessageHeader, with the sender and
// receiver Organizations, the Patient, and — by event — the CareCommunication's Communication
// or the HospitalNotification's Encounter, and the Provenance chain. Only what the broker maps
// to and from its native letters is modelled; narrative (text/div) is ignored. Pure; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/fhir/fhir_acknowledgement.hpp"
#include "broker/core/result.hpp"
#include "broker/core/time.hpp"

namespace sektorbro::adapters {

inline constexpr std::string_view kCprSystem = "urn:oid:1.2.208.176.1.2";
inline constexpr std::string_view kEventCareCommunication = "care-communication-message";
inline constexpr std::string_view kEventHospitalNotification = "hospital-notification-message";
inline constexpr std::string_view kEventAcknowledgement = "acknowledgement-message";

// Which MedCom message a Bundle is, from MessageHeader.eventCoding.code.
std::string fhir_event_of(std::string_view bytes);  // "" when not a FHIR message Bundle

struct FhirParty {
  std::string gln;
  std::string sor;
  std::string name;
  bool operator==(const FhirParty&) const = default;
};

struct FhirPatient {
  std::string cpr;     // identifier with system urn:oid:1.2.208.176.1.2 — never log it
  std::string family;  // name[official].family
  std::string given;   // name[official].given, joined by ' '
  std::string line;    // address.line (first)
  // address.line (second; a third and further are appended, ", " between): where a Danish
  // address writes the supplementary town name, OIOXML's SuburbName (issue 9: not dropped).
  std::string suburb;
  std::string city;         // address.city
  std::string postal_code;  // address.postalCode
  bool operator==(const FhirPatient&) const = default;
};

// One Provenance: what happened (activity) to which MessageHeader (target), and which earlier
// messages it refers to (entity.what), which is how replies and corrections correlate.
struct FhirProvenance {
  std::string target;    // reference to a MessageHeader
  std::string occurred;  // occurredDateTime as written
  std::string activity;  // medcom-messaging-activityCodes: new-message, discharge-inpatient-home…
  std::vector<std::string> entities;  // entity.what references
  bool operator==(const FhirProvenance&) const = default;
};

// A CareCommunication payload: text (contentString) or an attachment (contentAttachment).
struct FhirPayload {
  std::string text;          // contentString as written (MedCom writes line breaks as <br/>)
  std::string content_type;  // contentAttachment.contentType
  std::string title;         // contentAttachment.title
  std::string url;           // contentAttachment.url
  bool operator==(const FhirPayload&) const = default;
};

struct FhirMessage {
  std::string bundle_id;
  TimePoint timestamp{};
  std::string header_id;  // MessageHeader.id: the message's id, stable across resends
  std::string event;      // eventCoding.code
  FhirParty sender;
  FhirParty receiver;
  std::string source_endpoint;
  std::string destination_endpoint;
  FhirPatient patient;
  // CareCommunication (Communication)
  std::string category;  // category.coding.code, e.g. "other"
  std::string topic;     // topic.text: the subject
  std::string priority;  // priority, e.g. "asap"
  std::vector<FhirPayload> payloads;
  // HospitalNotification (Encounter)
  std::string encounter_status;  // in-progress | onleave | finished | cancelled | entered-in-error
  std::string encounter_class;   // IMP, EMER, ...
  std::string period_start;      // Encounter.period.start as written
  std::string period_end;        // Encounter.period.end as written
  std::vector<FhirProvenance> provenances;
  bool operator==(const FhirMessage&) const = default;
};

// Parses a MedCom message Bundle (XML, any encoding the XML layer accepts) with a
// MessageHeader first, resolving sender, receiver, Patient and focus through their references.
// Errors: kMalformed (bytes, XML) or kInvalid with a path such as
// "Bundle/entry[1]/MessageHeader/sender/reference: missing"; details never echo values.
Result<FhirMessage> parse_fhir_message(std::string_view bytes);

// Writes FHIR R4 XML (UTF-8) for a care-communication-message or hospital-notification-message:
// MessageHeader, Patient, Communication or Encounter, the Organizations, and the Provenances.
// Resource ids are derived from the header id. parse(write(m)) == m for what the model holds.
std::string write_fhir_message(const FhirMessage& m);

}  // namespace sektorbro::adapters
