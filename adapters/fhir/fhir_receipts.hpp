// MedCom FHIR Acknowledgements ↔ native receipts (domain.md §3). ok is a PositiveReceipt,
// fatal-error a NegativeReceipt (kApplication) with a RefuseCode mapped from the issue code,
// and transient-error is neither: it means "the receiver had technical trouble, a resend may
// succeed", which the native model has no receipt for, so it comes back as its own outcome and
// the caller keeps the letter in its resend schedule. Pure; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "adapters/fhir/fhir_acknowledgement.hpp"
#include "broker/core/result.hpp"
#include "broker/message/message.hpp"

namespace sektorbro::adapters {

// The MedCom issue code (OperationOutcome.issue.details.coding.code) → RefuseCode:
//   MSG_Receiver_Identifier_UNKNOWN          → ukendt_lokationsnummer
//   MSG_Receiver_Identifier_MISSING          → problem_med_modtagerID
//   MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE  → problem_med_version (as XCTL02 uses it for "cannot
//                                              receive this kind of letter")
//   MSG_BAD_SYNTAX, MSG_BAD_FORMAT, MSG_DATE_FORMAT, MSG_WRONG_NS, MSG_Datatype_Wrong,
//   MSG_Element_To_Long, MSG_VALUESET_VALUE_UNKNOWN, MSG_CodeSystem_VALUE_UNKNOWN,
//   MSG_Damaged_durin_transport             → syntaksfejl
//   anything else (MSG_DUPLICATE_ID, ...)   → ikke_specificeret
// Compared case-insensitively (MedCom's own code systems mix cases).
RefuseCode refuse_code_for_issue(std::string_view detail_code);
// The reverse, for writing: one representative issue code per RefuseCode ("" for
// ikke_specificeret, which is written without a detail code), and the FHIR issue type.
std::string_view issue_code_for_refusal(RefuseCode code);
std::string_view issue_type_for_refusal(RefuseCode code);

enum class AckOutcome { kPositive, kNegative, kTransient };

struct NativeAck {
  AckOutcome outcome = AckOutcome::kPositive;
  std::optional<Letter> receipt;  // kPositive / kNegative: the native receipt letter
  std::string transient_reason;   // kTransient: the issues' codes and diagnostics, no CPR
};

// The native meaning of `ack`. `original` is the envelope and letters the acknowledgement
// answers (the caller looks it up by ack.response_identifier); `letter_id` the native id to
// give the receipt letter (FHIR ids are UUIDs, longer than native ids may be). The receipt's
// sender/receiver are the acknowledgement's organisations, authorised its timestamp; a
// negative receipt's code comes from the first issue with a detail code, its text is the
// issues' diagnostics joined by '\n' (or, without any, their detail codes).
Result<NativeAck> ack_to_native(const FhirAcknowledgement& ack, const ReceiptReference& original,
                                std::string_view letter_id);

// The ids of the acknowledgement being written.
struct FhirAckIds {
  std::string bundle_id;
  std::string header_id;
  TimePoint timestamp{};
  std::string response_identifier;  // the original message's MessageHeader.id
  std::string source_endpoint;
  std::string destination_endpoint;
};

// The acknowledgement saying what the native receipt `receipt` says: PositiveReceipt → ok,
// NegativeReceipt (either level) → fatal-error with one issue (severity error, type and detail
// code from the RefuseCode, diagnostics = the text). kInvalid if `receipt` is not a receipt.
Result<FhirAcknowledgement> ack_from_native(const Letter& receipt, const FhirAckIds& ids);

// A transient-error acknowledgement (the broker or receiver cannot take the message now).
FhirAcknowledgement make_transient_ack(const FhirAckIds& ids, const Party& sender,
                                       const Party& receiver, std::string_view diagnostics);

}  // namespace sektorbro::adapters
