// The classic MedCom OIOXML Emessage (domain.md §2–3) as the adapter's intermediate value: what
// the reader takes out of the bytes and the writer puts back, independent of the native model.
// XDIS91 ClinicalEmail converts to and from the native Correspondence letter and receipts
// (XCTL01/02/03) to and from native receipts (oioxml_native.hpp, oioxml_receipts.hpp); every
// other MedCom letter has no native type and lives here only. Plain values; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/xml/text_encoding.hpp"
#include "broker/core/time.hpp"
#include "broker/message/message.hpp"

namespace sektorbro::adapters {

// Every dated MedCom namespace has this prefix and ends in "YYYY/MM/DD/".
inline constexpr std::string_view kOioxmlNamespacePrefix =
    "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/";
// The namespace MedCom's receipt standard (XCTL01/02/03) is written in, whatever the original.
inline constexpr std::string_view kOioxmlReceiptNamespace =
    "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/";
inline constexpr std::string_view kOioxmlNamespace20060701 =
    "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2006/07/01/";

// The letter element under Emessage. kOther keeps the element name in OioxmlLetter::element.
enum class OioxmlLetterKind {
  kClinicalEmail,        // XDIS91 correspondence
  kPositiveReceipt,      // XCTL03
  kNegativeReceipt,      // XCTL02, the receiving application's refusal
  kNegativeVansReceipt,  // XCTL01, the network's refusal
  kOther,
};
std::string_view element_name(OioxmlLetterKind k);  // "ClinicalEmail", ...; "" for kOther
inline bool is_receipt(OioxmlLetterKind k) {
  return k == OioxmlLetterKind::kPositiveReceipt || k == OioxmlLetterKind::kNegativeReceipt ||
         k == OioxmlLetterKind::kNegativeVansReceipt;
}

// Sender / Receiver / OriginalSender / OriginalReceiver. Receipts carry the EAN only.
struct OioxmlParty {
  std::string ean;              // EANIdentifier: 1–35 characters (MedCom), usually a GLN
  std::string identifier;       // Identifier
  std::string identifier_code;  // IdentifierCode: lokationsnummer, kommunenummer, sorkode, ...
  std::string organisation_name;
  std::string department_name;
  std::string unit_name;        // UnitName
  PostalAddress address;        // StreetName, SuburbName, DistrictName, PostCodeIdentifier
  std::string phone;            // TelephoneSubscriberIdentifier (Sender)
  std::string speciality_code;  // MedicalSpecialityCode (Sender)
  bool operator==(const OioxmlParty&) const = default;
};

// OriginalEmessage/OriginalLetter.
struct OioxmlOriginalLetter {
  std::string letter_id;     // OriginalLetterIdentifier
  std::string version_code;  // OriginalVersionCode
  std::string refuse_code;   // negative receipts: RefuseCode (MedCom value, kept as written)
  std::string refuse_text;   // negative receipts: RefuseText, <Break/> as '\n'
  bool operator==(const OioxmlOriginalLetter&) const = default;
};

// OriginalEmessage: what a receipt points back at. A refusal of the whole envelope (no letter
// could be read) has no letters and its code/text here.
struct OioxmlOriginal {
  std::string envelope_id;  // OriginalEnvelopeIdentifier
  OioxmlParty sender;       // OriginalSender
  OioxmlParty receiver;     // OriginalReceiver
  std::string refuse_code;
  std::string refuse_text;
  std::vector<OioxmlOriginalLetter> letters;
  bool operator==(const OioxmlOriginal&) const = default;
};

struct OioxmlLetter {
  OioxmlLetterKind kind = OioxmlLetterKind::kOther;
  std::string element;  // the letter element's local name ("ClinicalEmail", ...)
  // Letter/...
  std::string id;                       // Identifier: business id, stable across resends
  std::string version_code;             // XD9134L, XC0330Q, ...
  std::string statistical_code;         // XDIS91, XCTL03, ...
  std::optional<TimePoint> authorised;  // Authorisation Date+Time (Copenhagen, minutes)
  std::string type_code;                // TypeCode, e.g. XDIS91
  std::string status_code;              // nytbrev | rettetbrev | annulleretbrev
  OioxmlParty sender;
  OioxmlParty receiver;
  std::string episode_of_care_id;  // Letter/EpisodeOfCareIdentifier
  std::string patient_cpr;  // Patient/CivilRegistrationNumber — never log it
  std::string patient_surname;
  std::string patient_given_name;
  PostalAddress patient_address;
  std::string patient_occupancy;       // OccupancyText
  std::string episode_of_care_status;  // EpisodeOfCareStatusCode
  std::string priority;  // AdditionalInformation/Priority
  std::string subject;   // AdditionalInformation/Subject
  // ClinicalInformation/Text01 of each block as a canonical formatted-text fragment
  // (broker/xml/formatted_text.hpp: Break, FixedFont, ... kept; <br/> read as Break).
  std::vector<std::string> formatted_text;
  std::string text;  // the plain rendering: blocks joined by '\n' (Break as '\n')
  std::vector<AttachmentReference> references;  // Reference (RefDescription + URL/SUP/BIN)
  std::optional<OioxmlOriginal> original;  // receipts only
  bool operator==(const OioxmlLetter&) const = default;
};

struct OioxmlEmessage {
  std::string namespace_uri;  // the dated MedCom namespace, ending in "/"
  TimePoint sent{};           // Envelope/Sent Date+Time, Copenhagen local, minute resolution
  std::string envelope_id;    // Envelope/Identifier: new for every send
  bool positive_receipt_requested = false;  // pluspositivkvitt (else minuspositivkvitt)
  std::vector<OioxmlLetter> letters;        // at least one
  bool operator==(const OioxmlEmessage&) const = default;
};

// A parsed document: the value, how its bytes were read, and the bytes themselves (a letter
// the native model cannot express is delivered as these bytes, unchanged).
struct OioxmlDocument {
  OioxmlEmessage message;
  TextEncoding declared_encoding = TextEncoding::kUtf8;
  TextEncoding used_encoding = TextEncoding::kUtf8;
  std::string original_bytes;
};

}  // namespace sektorbro::adapters
