// The stored message a receipt answers, by the envelope id the receipt names (issue 9).
//
// A corrected or cancelled letter (MedCom rettetbrev / annulleretbrev, domain.md §2) keeps its
// letter id, so the letter id alone names only its latest version (Store::find_letter). A
// receipt answers one message, though — the envelope its writer received — and names that
// envelope's id (ReceiptReference::original_envelope_id; for a FHIR Acknowledgement the intake
// fills in the envelope id of the message it pins by MessageHeader.id). This finds that message
// among those `original_sender_gln` sent to `original_receiver_gln` with the letter in it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "broker/core/result.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

// nullopt when no stored message matches: the envelope id is one the broker wrote for a resend
// (never stored), "ukendt", or not the original's; the caller then takes the letter's latest
// version, as before.
inline Result<std::optional<std::int64_t>> answered_message(Store& store,
                                                            const std::string& envelope_id,
                                                            const std::string& original_sender_gln,
                                                            const std::string& original_receiver_gln,
                                                            const std::string& letter_id) {
  if (envelope_id.empty()) return std::optional<std::int64_t>{};
  MessageFilter filter;
  filter.envelope_id = envelope_id;
  filter.newest_first = true;
  filter.limit = 20;
  auto found = store.list_messages(filter);
  if (!found) return found.error();
  for (const MessageRecord& m : *found) {
    if (m.sender_gln != original_sender_gln || m.receiver_gln != original_receiver_gln) continue;
    if (std::any_of(m.letters.begin(), m.letters.end(),
                    [&](const NewLetter& l) { return l.letter_id == letter_id; }))
      return std::optional<std::int64_t>{m.id};
  }
  return std::optional<std::int64_t>{};
}

}  // namespace sektorbro
