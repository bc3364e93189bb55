// MedCom's FHIR Acknowledgement message (domain.md §3: ok | transient-error | fatal-error, with
// OperationOutcome issue codes) as a value, and FHIR XML ↔ value. Pure; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.hpp"
#include "broker/core/time.hpp"

namespace sektorbro::adapters {

inline constexpr std::string_view kFhirNamespace = "http://hl7.org/fhir";
inline constexpr std::string_view kGlnSystem = "https://www.gs1.org/gln";
inline constexpr std::string_view kSorSystem = "urn:oid:1.2.208.176.1.1";
inline constexpr std::string_view kAckErrorCodeSystem =
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-acknowledgement-error-codes";

enum class FhirAckCode { kOk, kTransientError, kFatalError };
std::string_view to_string(FhirAckCode c);  // "ok", "transient-error", "fatal-error"
std::optional<FhirAckCode> parse_fhir_ack_code(std::string_view s);

// One OperationOutcome.issue.
struct FhirAckIssue {
  std::string severity;       // fatal | error | warning | information
  std::string code;           // FHIR issue type: structure, not-found, transient, ...
  std::string detail_system;  // details.coding.system
  std::string detail_code;    // details.coding.code: MSG_Receiver_Identifier_UNKNOWN, ...
  std::string diagnostics;    // free text; CPR-like numbers are redacted when read
  bool operator==(const FhirAckIssue&) const = default;
};

// A MedComMessagingOrganization: the GLN (EAN) and SOR identifiers.
struct FhirOrganization {
  std::string gln;
  std::string sor;
  bool operator==(const FhirOrganization&) const = default;
};

struct FhirAcknowledgement {
  std::string bundle_id;
  TimePoint timestamp{};
  std::string header_id;            // the acknowledgement's MessageHeader.id
  std::string response_identifier;  // MessageHeader.response.identifier: the original's id
  FhirAckCode code = FhirAckCode::kOk;
  FhirOrganization sender;    // MessageHeader.sender → Organization
  FhirOrganization receiver;  // MessageHeader.destination.receiver → Organization
  std::string source_endpoint;
  std::string destination_endpoint;
  std::vector<FhirAckIssue> issues;  // from response.details → OperationOutcome
  bool operator==(const FhirAcknowledgement&) const = default;
};

// Parses a Bundle of type message whose first entry is a MessageHeader with eventCoding
// acknowledgement-message and a response (identifier + code). Sender and receiver are resolved
// through their references to Organization entries (fullUrl or Type/id); issues through
// response.details to an OperationOutcome entry. Narrative (text/div) is ignored. Errors:
// kMalformed (bytes, XML, DOCTYPE/ENTITY, nesting) or kInvalid with a path such as
// "Bundle/entry[1]/MessageHeader/response/code: expected ok, transient-error or fatal-error";
// details never echo values.
Result<FhirAcknowledgement> parse_fhir_acknowledgement(std::string_view bytes);

// Writes FHIR R4 XML (UTF-8): Bundle with MessageHeader, a Provenance for the acknowledgement,
// the two Organizations, and an OperationOutcome when there are issues.
// parse(write(a)) == a.
std::string write_fhir_acknowledgement(const FhirAcknowledgement& ack);

}  // namespace sektorbro::adapters
