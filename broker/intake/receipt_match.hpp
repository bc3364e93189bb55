// Which stored message a receipt answers (issue 9; MedCom reliable messaging, domain.md §3).
//
// A letter keeps its id across the broker's resends — each goes in a new envelope with a new
// id and time (Dispatcher::check_receipts) — and across its sender's corrections (rettetbrev /
// annulleretbrev: a new message), so the letter id alone names only the letter's latest
// version (Store::find_letter). A receipt answers what its writer received and names that
// envelope's id (ReceiptReference::original_envelope_id): the envelope the message came in as
// its sender sent it, or the envelope of one of the broker's resends of it. The broker records
// each resend's envelope id under resend_envelope_key() (Store::record_sent_envelope) so that a
// receipt naming it finds the message resent.
//
// Pure: the shell reads the candidates (broker/server/answered_message.hpp); no I/O, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/store/store.hpp"

namespace sektorbro {

// The key a resend's envelope id is recorded under: the receiver's GLN is part of it, since
// only the endpoint the resend went to can answer it. Apart from EHMI instance identifiers and
// FHIR keys (sent_fhir_message_key), which share the store's sent-envelope records.
std::string resend_envelope_key(std::string_view receiver_gln, std::string_view envelope_id);

// Whether an OriginalEnvelopeIdentifier names an envelope: empty and "ukendt" (what a FHIR
// Acknowledgement carries, and the broker's own refusals of documents it could not read) do not;
// such a receipt is matched by its letter ids alone.
bool names_an_envelope(std::string_view envelope_id);

// What the store holds under the envelope id a receipt names.
struct ReceiptCandidates {
  std::vector<MessageRecord> received_in;  // stored with that envelope id, as their senders sent
  std::optional<MessageRecord> resent_in;  // the message a resend in that envelope carried
};

enum class ReceiptMatch {
  kAnswers,          // message_id is the message the receipt answers
  kNamesNoEnvelope,  // the receipt names no envelope: its letter's latest version
  kNeverSent,        // the envelope named never carried the letter to the receipt's writer
};
struct AnsweredMessage {
  ReceiptMatch match = ReceiptMatch::kNamesNoEnvelope;
  std::int64_t message_id = 0;  // kAnswers only
  bool operator==(const AnsweredMessage&) const = default;
};

// The message among `candidates` that `original_sender_gln` sent to `original_receiver_gln`
// (the receipt's writer) with letter `letter_id` in it. A resend names its message (its id was
// made by the broker for that receiver); otherwise the newest such message stored under the
// envelope id. `envelope_id` is the one the receipt names.
AnsweredMessage answered_among(const ReceiptCandidates& candidates, std::string_view envelope_id,
                               std::string_view original_sender_gln,
                               std::string_view original_receiver_gln, std::string_view letter_id);

}  // namespace sektorbro
