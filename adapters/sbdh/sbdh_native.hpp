// A native Sektorbro Emessage carried in an EHMI SBDH envelope, both ways, so a psychiatry
// system on EHMI and a jobcenter on another dialect can talk (issue 4). Pure; any thread.
#pragma once

#include <string>

#include "adapters/sbdh/sbdh_document.hpp"
#include "broker/core/result.hpp"
#include "broker/message/message.hpp"

namespace sektorbro::adapters {

inline constexpr std::string_view kNativeSbdhStandard = "sektorbro-message";
inline constexpr std::string_view kNativeSbdhType = "Emessage";
inline constexpr std::string_view kNativeSbdhDocumentId =
    "urn:sektorbro:messaging:1##urn:sektorbro:messaging:emessage::1";

struct SbdhWrapOptions {
  std::string instance_id;  // the SBDH's own id: new for every send, like the envelope id
  TimePoint created{};
  std::string process_id = "urn:ehmi:sdn-emergence";
  // Asked for when the envelope wants a positive receipt (EHMI samples: 10 minutes).
  Duration time_to_acknowledge = std::chrono::minutes(10);
};

// Wraps `envelope` (encode_envelope as the application/xml payload): Sender/Receiver "0088:" +
// the envelope's GLNs, SENDERID/RECEIVERID their SOR codes, MESSAGEENVELOPEIDENTIFIER the
// envelope id, MESSAGEIDENTIFIER the letter id (single-letter envelopes only: EHMI carries one
// business message per envelope), PATIENTID the letter's CPR when present, and an
// EHMI-ReceiptAcknowledgement Request when positive_receipt_requested. kInvalid if the envelope
// has no letters or more than one, or instance_id is empty.
Result<SbdhDocument> wrap_native_envelope(const Envelope& envelope, const SbdhWrapOptions& options);

// The native envelope inside `document` (decode_envelope of the payload), checked against the
// header: the payload's sender and receiver GLN, envelope id and letter id must equal the SBDH's
// Sender, Receiver, MESSAGEENVELOPEIDENTIFIER and MESSAGEIDENTIFIER where those are present.
// kUnsupportedType if the payload is not a native Emessage (another Standard or mimeType);
// decode errors as decode_envelope gives them; kInvalid on a header mismatch.
Result<Envelope> unwrap_native_envelope(const SbdhDocument& document);

}  // namespace sektorbro::adapters
