// The stored message a receipt answers, by the envelope id the receipt names (issue 9).
//
// A corrected or cancelled letter (MedCom rettetbrev / annulleretbrev, domain.md §2) keeps its
// letter id, so the letter id alone names only its latest version (Store::find_letter). A
// receipt answers one message, though — the envelope its writer received — and names that
// envelope's id (ReceiptReference::original_envelope_id; for a FHIR Acknowledgement the intake
// fills in the envelope id of the message it pins by MessageHeader.id), or the id of an envelope
// the broker resent it in. This finds that message among those `original_sender_gln` sent to
// `original_receiver_gln` with the letter in it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "broker/core/result.hpp"
#include "broker/intake/receipt_match.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

// The candidates the store holds under the envelope id: the messages received in it and the
// message a resend in it carried (recorded under resend_envelope_key by the dispatcher). The
// rule that picks among them is the intake core's (broker/intake/receipt_match.hpp).
inline Result<AnsweredMessage> answered_by_envelope(Store& store, const std::string& envelope_id,
                                                    const std::string& original_sender_gln,
                                                    const std::string& original_receiver_gln,
                                                    const std::string& letter_id) {
  ReceiptCandidates candidates;
  if (names_an_envelope(envelope_id)) {
    MessageFilter filter;
    filter.envelope_id = envelope_id;
    filter.newest_first = true;
    filter.limit = 20;
    auto found = store.list_messages(filter);
    if (!found) return found.error();
    candidates.received_in = std::move(*found);
    auto resent = store.find_sent_envelope(resend_envelope_key(original_receiver_gln, envelope_id));
    if (!resent) return resent.error();
    if (*resent) {
      auto message = store.get_message((*resent)->message_id);
      if (!message) return message.error();
      candidates.resent_in = std::move(*message);
    }
  }
  return answered_among(candidates, envelope_id, original_sender_gln, original_receiver_gln,
                        letter_id);
}

// nullopt when no stored message matches: the envelope id is "ukendt", or neither the
// original's nor one of its resends'; the caller then takes the letter's latest version, as
// before.
inline Result<std::optional<std::int64_t>> answered_message(
    Store& store, const std::string& envelope_id, const std::string& original_sender_gln,
    const std::string& original_receiver_gln, const std::string& letter_id) {
  auto answered = answered_by_envelope(store, envelope_id, original_sender_gln,
                                       original_receiver_gln, letter_id);
  if (!answered) return answered.error();
  if (answered->match != ReceiptMatch::kAnswers) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>{answered->message_id};
}

}  // namespace sektorbro
