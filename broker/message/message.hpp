// The broker's message model: plain value types for Sektorbro's native envelope
// (`urn:sektorbro:messaging:1`), modelled on MedCom's classic OIOXML Emessage (domain.md §2).
// No I/O and no XML here: the codec turns bytes into these values and back.
//
// An Envelope carries one or more Letters. Every letter names its sender and receiver (as in
// MedCom); the codec's validation requires all letters of one envelope to share sender and
// receiver, so an envelope is the unit of routing and delivery.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "broker/core/time.hpp"

namespace sektorbro {

inline constexpr std::string_view kNamespace = "urn:sektorbro:messaging:1";

enum class LetterType {
  kCertificateRequest,
  kCertificate,
  kDischargeNotice,
  kMentorResponse,
  kReminder,
  kPositiveReceipt,
  kNegativeReceipt,
  kCorrespondence,
  kHospitalStayNotice,  // last: LetterType follows the LetterBody alternative's index
};
inline constexpr LetterType kAllLetterTypes[] = {
    LetterType::kCertificateRequest, LetterType::kCertificate,   LetterType::kDischargeNotice,
    LetterType::kMentorResponse,     LetterType::kReminder,      LetterType::kPositiveReceipt,
    LetterType::kNegativeReceipt,    LetterType::kCorrespondence, LetterType::kHospitalStayNotice};
std::string_view to_string(LetterType t);  // "CertificateRequest", ...
std::optional<LetterType> parse_letter_type(std::string_view s);
inline bool is_receipt(LetterType t) {
  return t == LetterType::kPositiveReceipt || t == LetterType::kNegativeReceipt;
}

// MedCom StatusCode values.
enum class LetterStatus { kNew, kCorrected, kCancelled };
std::string_view to_string(LetterStatus s);  // "nytbrev", "rettetbrev", "annulleretbrev"
std::optional<LetterStatus> parse_letter_status(std::string_view s);

// MedCom RefuseCode values (domain.md §3).
enum class RefuseCode {
  kUnspecified,        // ikke_specificeret
  kUnknownLocation,    // ukendt_lokationsnummer
  kReceiverIdProblem,  // problem_med_modtagerID
  kVersionProblem,     // problem_med_version
  kSyntaxError,        // syntaksfejl
};
std::string_view to_string(RefuseCode c);
std::optional<RefuseCode> parse_refuse_code(std::string_view s);

// An organisational unit: GLN (routing key) + SOR code, optionally a MedCom identifier code.
struct Party {
  std::string gln;              // 13 digits, GS1 check digit
  std::string sor;              // SOR code, digits
  std::string identifier_code;  // optional: kommunenummer, sygehusafdelingsnummer, sorkode, ...
  std::string identifier;       // optional: the identifier the code qualifies
  std::string name;             // optional display name
  bool operator==(const Party&) const = default;
};

struct Patient {
  std::string cpr;  // 10 digits DDMMYYSSSS — special-category data: never log it
  bool operator==(const Patient&) const = default;
};

// Jobcenter → psychiatry: please answer form `form` (e.g. "LÆ285").
struct CertificateRequest {
  std::string form;                    // "LÆ125", "LÆ135", ... (see codec's list of forms)
  std::string case_reference;          // the jobcenter's case number
  std::vector<std::string> questions;  // at least one
  std::optional<Date> reply_deadline;  // required for LÆ285 (≥ 8 days out), absent otherwise
  bool operator==(const CertificateRequest&) const = default;
};

// Psychiatry → jobcenter: the answer to a request, or a decline where the form allows one.
struct Certificate {
  std::string form;
  std::string request_letter_id;  // the CertificateRequest's letter id (same sender pair)
  bool declined = false;
  std::string decline_reason;  // required when declined
  std::string text;            // the certificate body (health content)
  bool operator==(const Certificate&) const = default;
};

// Psychiatry → jobcenter: a citizen on benefits is being discharged (LAB § 31 b).
struct DischargeNotice {
  Date admission_date;
  Date discharge_date;
  bool mentor_entitled = false;
  bool consent = false;    // consent to share information with the jobcenter
  std::string department;  // optional free text
  bool operator==(const DischargeNotice&) const = default;
};

enum class MentorOutcome { kOffered, kAccepted, kDeclined, kNotReached };
std::string_view to_string(MentorOutcome o);  // "offered", "accepted", "declined", "not-reached"
std::optional<MentorOutcome> parse_mentor_outcome(std::string_view s);

// Jobcenter → psychiatry: whether a discharge mentor was offered/assigned.
struct MentorResponse {
  std::string notice_letter_id;  // the DischargeNotice's letter id
  MentorOutcome outcome = MentorOutcome::kOffered;
  std::string mentor_name;   // optional
  std::string mentor_phone;  // optional
  bool operator==(const MentorResponse&) const = default;
};

// Written by the broker to the unit that owes a reply.
struct Reminder {
  std::string original_letter_id;  // the request/notice whose reply is owed
  LetterType owed = LetterType::kCertificate;
  Date due;
  int step = 1;  // 1-based reminder step in the schedule
  std::string text;
  bool operator==(const Reminder&) const = default;
};

// A Danish postal address as MedCom writes it (StreetName, SuburbName, DistrictName,
// PostCodeIdentifier); every part optional.
struct PostalAddress {
  std::string street;
  std::string suburb;
  std::string district;
  std::string post_code;
  bool empty() const {
    return street.empty() && suburb.empty() && district.empty() && post_code.empty();
  }
  bool operator==(const PostalAddress&) const = default;
};

// What a MedCom letter (XDIS91) says about its sender or receiver beyond the Party (whose `name`
// holds the OrganisationName). All optional; kept so that nothing the sender wrote is lost.
struct PartyDetails {
  std::string department;       // DepartmentName
  std::string unit;             // UnitName
  PostalAddress address;
  std::string phone;            // TelephoneSubscriberIdentifier (sender only)
  std::string speciality_code;  // MedicalSpecialityCode, e.g. "psykiatri" (sender only)
  bool empty() const {
    return department.empty() && unit.empty() && address.empty() && phone.empty() &&
           speciality_code.empty();
  }
  bool operator==(const PartyDetails&) const = default;
};

// What a MedCom letter says about the patient beyond the CPR number. Health content: never log.
struct PatientDetails {
  std::string surname;                 // PersonSurnameName (MedCom requires it on XDIS91)
  std::string given_name;              // PersonGivenName
  PostalAddress address;               // the citizen's address
  std::string occupancy;               // OccupancyText
  std::string episode_of_care_status;  // EpisodeOfCareStatusCode: inaktiv, indlagt, ambulant, ...
  bool empty() const {
    return surname.empty() && given_name.empty() && address.empty() && occupancy.empty() &&
           episode_of_care_status.empty();
  }
  bool operator==(const PatientDetails&) const = default;
};

// A MedCom Reference (XDIS91): a described pointer to an attachment that travels beside the
// letter — a URL, a "SUP" flag (supplementary paper), or a BIN object sent in the same VANS
// transfer, named by its ObjectIdentifier. Exactly one of url / sup / object_id is set.
struct AttachmentReference {
  std::string description;     // RefDescription, e.g. "BIN"
  std::string url;             // URL
  bool sup = false;            // SUP
  std::string object_id;       // BIN/ObjectIdentifier
  std::string object_code;     // BIN/ObjectCode, e.g. "billede"
  std::string extension_code;  // BIN/ObjectExtensionCode, e.g. "pdf"
  std::uint64_t size = 0;      // BIN/OriginalObjectSize in bytes
  bool operator==(const AttachmentReference&) const = default;
};

// A general letter between two units (MedCom XDIS91 "korrespondancebrev"): free text under a
// subject, about one patient. Letters read from a classic OIOXML XDIS91 ClinicalEmail keep
// MedCom's TypeCode and VersionCode so that they can be written back as they came.
struct Correspondence {
  std::string subject;              // MedCom AdditionalInformation/Subject; not empty
  std::string text;                 // the letter's text, lines separated by '\n'; not empty
  std::string priority;             // optional MedCom Priority, e.g. "høj_prioritet"
  std::string medcom_type_code;     // "XDIS91" when it came from OIOXML, else empty
  std::string medcom_version_code;  // optional MedCom VersionCode, e.g. "XD9134L"
  // MedCom's formatted text, one entry per ClinicalInformation block: the content of Text01 as
  // a canonical markup fragment (character data escaped; elements Break, Space, Right, Center,
  // Bold, Italic, Underline, FixedFont as MedCom's FormattedText allows them; see
  // broker/xml/formatted_text.hpp). Empty when the letter is plain text. When present, `text`
  // is its plain rendering, blocks joined by '\n'.
  std::vector<std::string> formatted_text;
  std::string episode_of_care_id;                // optional Letter/EpisodeOfCareIdentifier
  std::vector<AttachmentReference> attachments;  // MedCom Reference, at most 10
  PartyDetails sender_details;                   // the letter's Sender, beyond the Party
  PartyDetails receiver_details;                 // the letter's Receiver, beyond the Party
  PatientDetails patient_details;                // the letter's Patient, beyond the CPR number
  bool operator==(const Correspondence&) const = default;
};

// MedCom's HospitalNotification (advis om sygehusophold) events other than the end of an
// inpatient stay, which is the DischargeNotice (issue 9; domain.md §9; MedCom's value set
// medcom-hospitalNotification-messageActivities). Its revise-… / cancel-… forms are the same
// letter rettetbrev / annulleretbrev, as for every native letter.
enum class HospitalStayEvent {
  kAdmitInpatient,      // admit-inpatient: start of a stay, admitted (STIN)
  kAdmitEmergency,      // admit-emergency: start of a stay, acute ambulant
  kStartLeave,          // start-leave-inpatient
  kEndLeave,            // end-leave-inpatient
  kDischargeEmergency,  // discharge-emergency-home: end of an acute ambulant stay
};
std::string_view to_string(HospitalStayEvent e);  // MedCom's activity code, e.g. "admit-inpatient"
std::optional<HospitalStayEvent> parse_hospital_stay_event(std::string_view s);

// Psychiatry → jobcenter: a citizen was admitted, went on or came back from leave, or ended an
// acute ambulant stay. Informational: no deadline opens (only the DischargeNotice opens the
// MentorResponse deadline). Times are as the hospital wrote them: an xs:dateTime with a zone or
// an xs:date. Health content: never log.
struct HospitalStayNotice {
  HospitalStayEvent event = HospitalStayEvent::kAdmitInpatient;
  std::string event_time;        // when it happened (FHIR Provenance.occurredDateTime); optional
  std::string stay_start;        // the stay's start (Encounter.period.start); not empty
  std::string stay_end;          // optional (Encounter.period.end)
  std::string encounter_status;  // optional FHIR Encounter.status: in-progress, onleave, ...
  std::string encounter_class;   // optional v3 ActCode: IMP (inpatient), EMER (emergency), ...
  std::string department;        // optional free text: the sending department
  // The MedCom FHIR message the letter was read from, as FHIR JSON (fhir_json.hpp; the same
  // text whether it came as XML or JSON), kept whole so that nothing the hospital wrote is lost
  // on the way: a FHIR receiver gets exactly this message. Empty for a native letter.
  std::string fhir_message;
  bool operator==(const HospitalStayNotice&) const = default;
};

// Points back at what is being receipted (MedCom OriginalEmessage).
struct ReceiptReference {
  std::string original_envelope_id;
  std::vector<std::string> original_letter_ids;  // at least one
  bool operator==(const ReceiptReference&) const = default;
};

struct PositiveReceipt {
  ReceiptReference original;
  bool operator==(const PositiveReceipt&) const = default;
};

// kNetwork is written by the broker itself (like MedCom XCTL01); kApplication by the receiving
// system (XCTL02).
enum class ReceiptLevel { kNetwork, kApplication };
std::string_view to_string(ReceiptLevel l);  // "network", "application"
std::optional<ReceiptLevel> parse_receipt_level(std::string_view s);

struct NegativeReceipt {
  ReceiptReference original;
  ReceiptLevel level = ReceiptLevel::kApplication;
  RefuseCode code = RefuseCode::kUnspecified;
  std::string text;  // never contains CPR numbers
  bool operator==(const NegativeReceipt&) const = default;
};

// The alternatives are in LetterType's order (Letter::type() is the index).
using LetterBody = std::variant<CertificateRequest, Certificate, DischargeNotice, MentorResponse,
                                Reminder, PositiveReceipt, NegativeReceipt, Correspondence,
                                HospitalStayNotice>;

struct Letter {
  std::string id;  // 1–14 chars, stable across resends; unique per sender
  LetterStatus status = LetterStatus::kNew;
  TimePoint authorised{};  // when the author signed it off
  Party sender;
  Party receiver;
  std::optional<Patient> patient;  // required except on receipts and reminders
  LetterBody body;
  // The MedCom FHIR MessageHeader.id (a UUID) of a letter that arrived as a FHIR message: kept
  // so that what goes back to the FHIR sender (acknowledgements, relays) names its own id
  // (issue 9). Empty otherwise.
  std::string fhir_message_id = {};

  LetterType type() const { return static_cast<LetterType>(body.index()); }
  bool operator==(const Letter&) const = default;
};

struct Envelope {
  std::string id;  // 1–14 chars, new for every send (resends get a new one)
  TimePoint sent{};
  bool positive_receipt_requested = false;  // MedCom pluspositivkvitt
  std::vector<Letter> letters;              // at least one

  // Valid only after validation (all letters share these).
  const Party& sender() const { return letters.front().sender; }
  const Party& receiver() const { return letters.front().receiver; }
  bool operator==(const Envelope&) const = default;
};

// The broker's answer to an accepted POST: which envelope and letters it took.
struct Acceptance {
  std::string envelope_id;
  std::string sender_gln;
  std::vector<std::string> letter_ids;
  TimePoint accepted_at{};
  bool operator==(const Acceptance&) const = default;
};

}  // namespace sektorbro
