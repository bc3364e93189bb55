// EHMI's envelope-level receipts (domain.md §4): a message handler answers an SBDH that asks
// for one (EHMI-ReceiptAcknowledgement = Request) with a ReceiptAcknowledgement or a
// ReceiptException SBDH, from the original receiver back to the original sender, pointing back
// with the ORIGINAL… scopes and carrying an ebBP signal (ebbp-signals-2.0) as its payload.
// These are separate from the business receipt (FHIR Acknowledgement, native receipts): they
// say only that the envelope arrived (or could not be taken). Pure; any thread.
#pragma once

#include <string>
#include <string_view>

#include "adapters/sbdh/sbdh_document.hpp"
#include "broker/core/result.hpp"

namespace sektorbro::adapters {

inline constexpr std::string_view kSbdhReceiptAcknowledgement = "ReceiptAcknowledgement";
inline constexpr std::string_view kSbdhReceiptException = "ReceiptException";
inline constexpr std::string_view kSbdhAckStandard = "ehmisbdh-acknowledgement";
inline constexpr std::string_view kSbdhAckDocumentId =
    "urn:dk:healthcare:messaging:oasis:ebxml:schema:xsd::ehmisbdh-acknowledgement##"
    "urn:dk:ehmi:sbdh:ehmisbdh-acknowledgement::1.0";

// ebBP's ReceiptException types (ebbp-signals-2.0.4.xsd: Exception/ExceptionType/
// ReceiptException), which EHMI's envelope receipts use (medcomdk/dk-ehmi-sbdh,
// input/pagecontent/ehmiSBDHEnvelopeReceipt.md: syntax, authorization, signature and sequence
// exceptions).
inline constexpr std::string_view kReceiptExceptionSyntax = "Syntax";
inline constexpr std::string_view kReceiptExceptionAuthorization = "Authorization";
inline constexpr std::string_view kReceiptExceptionSignature = "Signature";
inline constexpr std::string_view kReceiptExceptionSequence = "Sequence";
bool is_receipt_exception_type(std::string_view type);
// The ebBP Reason written with each type (a fixed text; the detail goes in ExceptionMessage).
std::string_view receipt_exception_reason(std::string_view type);

// True for ReceiptAcknowledgement / ReceiptException documents (never themselves answered).
bool is_envelope_receipt(const SbdhDocument& document);

// The ids of the receipt being written.
struct SbdhReceiptIds {
  std::string instance_id;  // the receipt's own envelope id (also its MESSAGEIDENTIFIER)
  TimePoint created{};
};

// The ebBP signal inside a receipt's BinaryContent.
struct SbdhSignal {
  bool exception = false;            // ReceiptException (else ReceiptAcknowledgement)
  std::string original_message_id;   // OriginalMessageIdentifier
  std::string original_document_id;  // OriginalDocumentIdentifier (DOCUMENTID)
  TimePoint this_message_time{};     // ThisMessageDateTime
  std::string from_gln;              // FromPartyInfo without "0088:"
  std::string to_gln;                // ToPartyInfo without "0088:"
  std::string collaboration_id;      // CollaborationIdentifier
  std::string exception_type;        // ReceiptException: Syntax, Authorization, Signature,
                                     // Sequence (or GeneralException, or "other")
  std::string reason;                // ExceptionMessage, else Reason (CPR-like digits masked)
  bool operator==(const SbdhSignal&) const = default;
};

// Builds the ReceiptAcknowledgement for `original`, shaped like EHMI's sample: parties
// swapped, Standard ehmisbdh-acknowledgement, TypeVersion ebbp-signals-2.0, SENDERID /
// RECEIVERID swapped, MESSAGEIDENTIFIER = MESSAGEENVELOPEIDENTIFIER = ids.instance_id, the
// ORIGINAL… scopes from the original's MESSAGEIDENTIFIER, MESSAGEENVELOPEIDENTIFIER, Standard,
// TypeVersion and InstanceIdentifier, the receipt scope = Response correlated to the original's
// creation time and id (expected response = created + TimeToAcknowledgeReceipt), no PATIENTID.
// kInvalid if the original is itself an envelope receipt or ids.instance_id is empty.
Result<SbdhDocument> make_receipt_acknowledgement(const SbdhDocument& original,
                                                  const SbdhReceiptIds& ids);
// The same with Type ReceiptException and an ebBP Exception signal: ExceptionType/
// ReceiptException = `exception_type` (one of the four above, else kInvalid), the fixed Reason
// for it, and `reason` as ExceptionMessage (a short text without personal data).
Result<SbdhDocument> make_receipt_exception(const SbdhDocument& original,
                                            std::string_view exception_type,
                                            std::string_view reason, const SbdhReceiptIds& ids);

// The broker's answer to an envelope receipt it cannot take — one for an envelope it never sent
// (issue 9): a ReceiptException of type Sequence pointing back at the signal's envelope. An
// envelope receipt is never answered by a message of its own; this goes only in the HTTP
// answer to the one who posted the signal. kInvalid if `signal` is not an envelope receipt.
Result<SbdhDocument> make_signal_refusal(const SbdhDocument& signal, std::string_view reason,
                                         const SbdhReceiptIds& ids);

// Reads the signal out of an envelope receipt. kInvalid if the document is not one or its
// payload is not the expected signal; kMalformed if the payload is not XML.
Result<SbdhSignal> read_signal(const SbdhDocument& receipt);

}  // namespace sektorbro::adapters
