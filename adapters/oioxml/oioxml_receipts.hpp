// MedCom receipts (XCTL01/02/03, domain.md §3) in OIOXML, and their conversion to and from the
// native receipts. Pure; any thread.
//
// Receipts are written exactly as MedCom's own: namespace kOioxmlReceiptNamespace, one line,
// AcknowledgementCode minuspositivkvitt (a receipt is never receipted), Letter with Identifier,
// VersionCode and StatisticalCode only, Sender and Receiver with the EANIdentifier only (the
// original's receiver and sender), OriginalEmessage with OriginalEnvelopeIdentifier,
// OriginalSender, OriginalReceiver and one OriginalLetter per letter of the original
// (OriginalLetterIdentifier, OriginalVersionCode, and on negative receipts RefuseCode and
// RefuseText).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "adapters/oioxml/oioxml_codec.hpp"
#include "adapters/oioxml/oioxml_message.hpp"
#include "broker/core/result.hpp"
#include "broker/message/message.hpp"

namespace sektorbro::adapters {

// VersionCode / StatisticalCode of each receipt.
inline constexpr std::string_view kXctl03VersionCode = "XC0330Q";  // PositiveReceipt
inline constexpr std::string_view kXctl02VersionCode = "XC0230Q";  // NegativeReceipt
inline constexpr std::string_view kXctl01VersionCode = "XC0130Q";  // NegativeVansReceipt

// The receipt's own ids (new ones, minted by the caller) and send time.
struct OioxmlReceiptIds {
  std::string envelope_id;  // 1–14 characters
  std::string letter_id;    // 1–14 characters
  TimePoint sent{};
  // The receipt's Sender EAN; empty = the original's receiver (as MedCom does). A network
  // receipt written by the broker may name the broker's own GLN instead.
  std::string sender_ean;
};

// What a negative receipt refuses.
struct OioxmlRefusal {
  RefuseCode code = RefuseCode::kUnspecified;
  std::string text;  // free text, '\n' becomes <Break/>; must not contain CPR numbers
  // The original letters refused; empty = all of them. With whole_envelope, the refusal is
  // written on OriginalEmessage with no OriginalLetter (XCTL01 when the letters could not be
  // read at all).
  std::vector<std::string> letter_ids;
  bool whole_envelope = false;
};

// Builds the receipt for `original` (as parsed). kInvalid if the original is itself a receipt
// (receipts are never receipted), if an id is not 1–14 characters, or if refusal.letter_ids
// names a letter the original does not hold.
Result<OioxmlEmessage> build_positive_receipt(const OioxmlEmessage& original,
                                              const OioxmlReceiptIds& ids);
Result<OioxmlEmessage> build_negative_receipt(const OioxmlEmessage& original,
                                              const OioxmlRefusal& refusal,
                                              const OioxmlReceiptIds& ids);  // XCTL02
Result<OioxmlEmessage> build_network_receipt(const OioxmlEmessage& original,
                                             const OioxmlRefusal& refusal,
                                             const OioxmlReceiptIds& ids);  // XCTL01

// build_* then write_oioxml: the bytes to send.
Result<std::string> write_positive_receipt(const OioxmlEmessage& original,
                                           const OioxmlReceiptIds& ids,
                                           const OioxmlWriteOptions& options = {});
Result<std::string> write_negative_receipt(const OioxmlEmessage& original,
                                           const OioxmlRefusal& refusal,
                                           const OioxmlReceiptIds& ids,
                                           const OioxmlWriteOptions& options = {});
Result<std::string> write_network_receipt(const OioxmlEmessage& original,
                                          const OioxmlRefusal& refusal, const OioxmlReceiptIds& ids,
                                          const OioxmlWriteOptions& options = {});

// The OIOXML receipt for `original` that says what the native receipt `receipt` says:
// PositiveReceipt → XCTL03, NegativeReceipt kApplication → XCTL02, kNetwork → XCTL01, with the
// refused letters from receipt.original.original_letter_ids (all must be letters of the
// original). kInvalid if `receipt` is not a receipt or points at another envelope.
Result<OioxmlEmessage> receipt_from_native(const OioxmlEmessage& original, const Letter& receipt,
                                           const OioxmlReceiptIds& ids);

// The native receipts an OIOXML receipt message carries, one native Letter per receipt letter:
// XCTL03 → PositiveReceipt, XCTL02 → NegativeReceipt kApplication, XCTL01 → kNetwork. Parties
// get the GLN only (the caller's directory knows the SOR). authorised = the envelope's sent
// time (receipts carry no Authorisation). A RefuseCode MedCom does not define becomes
// kUnspecified; per-letter refusals with different codes become one kUnspecified receipt whose
// text names each letter's code and text. Texts have CPR-like numbers redacted. A refusal of the
// whole envelope (no OriginalLetter) gives original_letter_ids EMPTY, meaning "every letter of
// that envelope": the caller resolves it from its store (the native model asks for at least
// one id, so it must not pass the letter on unresolved). kUnsupportedType
// if a letter is not a receipt (XDIS91 correspondence converts in oioxml_native.hpp).
Result<std::vector<Letter>> receipts_to_native(const OioxmlEmessage& message);

}  // namespace sektorbro::adapters
