// EHMI's envelope (domain.md §4): the StandardBusinessDocument (SBDH header + base64
// BinaryContent) as a value, and bytes ↔ value. Pure; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.hpp"
#include "broker/core/time.hpp"

namespace sektorbro::adapters {

inline constexpr std::string_view kSbdhNamespace =
    "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader";
// BinaryContent is read in either namespace (EHMI's samples use both) and written in this one.
inline constexpr std::string_view kPeppolEnvelopeNamespace =
    "http://peppol.eu/xsd/ticc/envelope/1.0";
inline constexpr std::string_view kEbbpSignalsNamespace =
    "http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0";
// The Identifier of every MedCom scope.
inline constexpr std::string_view kMedcomScopeIdentifier = "dk-medcom-messaging";
// Party identifiers are "0088:<GLN>" under this authority.
inline constexpr std::string_view kPartyAuthority = "iso6523-actorid-upis";

// The EHMI-ReceiptAcknowledgement scope: a message asks for an envelope receipt (kRequest), a
// receipt answers one (kResponse).
enum class SbdhAckScope { kNone, kRequest, kResponse };

struct SbdhReceiptScope {
  SbdhAckScope kind = SbdhAckScope::kNone;
  std::optional<TimePoint> requesting_document_created;  // CorrelationInformation/...
  std::string requesting_document_id;
  std::optional<TimePoint> expected_response;
  Duration time_to_acknowledge{0};  // ServiceTransaction/@TimeToAcknowledgeReceipt (ms)
  bool operator==(const SbdhReceiptScope&) const = default;
};

// A scope this adapter does not model, kept in order.
struct SbdhScope {
  std::string type;
  std::string instance_identifier;
  std::string identifier;
  bool operator==(const SbdhScope&) const = default;
};

struct SbdhDocument {
  std::string sender_gln;    // Sender/Identifier without "0088:"
  std::string receiver_gln;  // Receiver/Identifier without "0088:"
  // DocumentIdentification
  std::string standard;      // e.g. homecareobservation-message, ehmisbdh-acknowledgement
  std::string type_version;  // e.g. 1.2
  std::string instance_id;   // InstanceIdentifier: this envelope's id
  std::string type;          // e.g. Bundle, ReceiptAcknowledgement, ReceiptException
  bool multiple_type = false;
  TimePoint created{};  // CreationDateAndTime
  // BusinessScope (empty = absent)
  std::string document_id;                   // DOCUMENTID
  std::string process_id;                    // PROCESSID
  std::string patient_id;                    // PATIENTID: a CPR number — never log it
  std::string sender_sor;                    // SENDERID
  std::string receiver_sor;                  // RECEIVERID
  std::string message_id;                    // MESSAGEIDENTIFIER: the business id
  std::string message_envelope_id;           // MESSAGEENVELOPEIDENTIFIER
  std::string original_message_id;           // ORIGINALMESSAGEIDENTIFIER
  std::string original_message_envelope_id;  // ORIGINALMESSAGEENVELOPEIDENTIFIER
  std::string original_message_standard;     // ORIGINALMESSAGESTANDARD
  std::string original_message_version;      // ORIGINALMESSAGEVERSION
  std::string original_envelope_id;          // ORIGINALENVELOPEIDENTIFIER (the SBDH's)
  std::string statistical_information;       // StatisticalInformation
  SbdhReceiptScope receipt;                  // EHMI-ReceiptAcknowledgement
  std::vector<SbdhScope> other_scopes;
  // BinaryContent
  std::string mime_type;                   // @mimeType, e.g. application/fhir+xml
  std::string content_encoding = "UTF-8";  // @encoding
  std::string payload;                     // the decoded bytes
  bool operator==(const SbdhDocument&) const = default;
};

// Parses a StandardBusinessDocument (UTF-8, ISO-8859-1 or windows-1252 as declared). Required:
// Sender and Receiver "0088:" + a valid GLN, DocumentIdentification's Standard,
// InstanceIdentifier, Type and CreationDateAndTime (xs:dateTime with a zone), BinaryContent with
// mimeType and valid base64. Every Scope needs a Type and an InstanceIdentifier; known types may
// occur once. Errors: kMalformed (bytes, XML, DOCTYPE/ENTITY, nesting, base64) or kInvalid with
// the element path, e.g. "StandardBusinessDocument/StandardBusinessDocumentHeader/Sender/
// Identifier: expected 0088:<GLN>"; details never echo values.
Result<SbdhDocument> parse_sbdh(std::string_view bytes);

// Writes UTF-8, indented, scopes in EHMI's order (empty ones left out, other_scopes after the
// known ones, the receipt scope last), payload as one line of base64. parse(write(d)) == d.
std::string write_sbdh(const SbdhDocument& document);

}  // namespace sektorbro::adapters
