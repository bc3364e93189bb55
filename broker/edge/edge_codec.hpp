// The edge: Sektorbro's native model meets the dialects endpoints speak (issue 4). Inbound bytes
// in any dialect become a native Envelope; a native Envelope becomes bytes in the receiver's
// dialect; the broker's own answers (acceptance, refusal) are written in the sender's dialect.
// Pure conversion over the adapters; no I/O, any thread.
//
//   native  Sektorbro Emessage (urn:sektorbro:messaging:1)
//   oioxml  MedCom classic OIOXML Emessage: XDIS91 correspondence and XCTL01/02/03 receipts;
//           Sektorbro's own letter types have no MedCom standard and cannot be sent to it
//   sbdh    an EHMI StandardBusinessDocument carrying a native Emessage, with EHMI's
//           envelope-level ReceiptAcknowledgement / ReceiptException
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "adapters/sbdh/sbdh_document.hpp"
#include "adapters/sbdh/sbdh_receipts.hpp"
#include "broker/core/result.hpp"
#include "broker/message/message.hpp"
#include "broker/routing/endpoint.hpp"

namespace sektorbro {

// Which dialect a document is in, from its root element and namespace alone.
Dialect sniff_dialect(std::string_view bytes);

struct Inbound {
  Dialect dialect = Dialect::kNative;
  // The message as the native model holds it; none for an SBDH envelope-level receipt. Letters
  // from OIOXML carry no SOR code when the sender gave none: the broker fills it from its
  // endpoint directory before validating.
  std::optional<Envelope> envelope;
  std::optional<adapters::SbdhDocument> sbdh;  // the SBDH as received (for its receipt)
  std::optional<adapters::SbdhSignal> signal;  // ReceiptAcknowledgement / ReceiptException
};

// Decodes a document in whatever dialect it is in. Errors as the dialect's parser gives them
// (kMalformed, kInvalid), or kUnsupportedType for a payload the broker cannot carry (e.g. an
// SBDH with a FHIR bundle, an OIOXML letter type other than XDIS91 and receipts).
Result<Inbound> decode_inbound(std::string_view bytes, TimePoint now);

// Whether a letter of type `type` can be written in `dialect`.
bool expressible(LetterType type, Dialect dialect);

// The native `envelope` as bytes in `dialect`. `instance_id` names the SBDH envelope (new for
// every send). kUnsupportedType with a reason for what the dialect cannot express.
Result<std::string> encode_outbound(const Envelope& envelope, Dialect dialect, TimePoint now,
                                    const std::string& instance_id);

// The broker's answer to an accepted document: the native Acceptance for native and OIOXML
// senders; for SBDH senders the envelope-level ReceiptAcknowledgement (EHMI) — the business
// receipt comes later from the receiver.
std::string accepted_answer(const Inbound& inbound, const std::string& native_acceptance,
                            TimePoint now, const std::string& instance_id);

// The broker's refusal in the sender's dialect: the native NegativeReceipt (network level)
// written as an XCTL01 for OIOXML senders, as an SBDH ReceiptException for SBDH senders whose
// envelope could be read, and as itself otherwise.
std::string refused_answer(Dialect dialect, const Inbound* inbound, const Envelope& native_refusal,
                           TimePoint now, const std::string& instance_id);

}  // namespace sektorbro
