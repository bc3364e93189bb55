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
  std::string exception_type;        // ReceiptException: e.g. SyntaxException
  std::string reason;                // ReceiptException: ExceptionMessage (no CPR)
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
// The same with Type ReceiptException and an ebBP Exception signal. `exception_type` is an
// ebBP receipt exception (SyntaxException, AuthorizationException, SignatureException,
// SequenceException); `reason` a short text without personal data.
Result<SbdhDocument> make_receipt_exception(const SbdhDocument& original,
                                            std::string_view exception_type,
                                            std::string_view reason, const SbdhReceiptIds& ids);

// Reads the signal out of an envelope receipt. kInvalid if the document is not one or its
// payload is not the expected signal; kMalformed if the payload is not XML.
Result<SbdhSignal> read_signal(const SbdhDocument& receipt);

}  // namespace sektorbro::adapters
