#include "broker/intake/receipt_match.hpp"

#include <algorithm>

namespace sektorbro {
namespace {

bool carried(const MessageRecord& m, std::string_view sender_gln, std::string_view receiver_gln,
             std::string_view letter_id) {
  return m.sender_gln == sender_gln && m.receiver_gln == receiver_gln &&
         std::any_of(m.letters.begin(), m.letters.end(),
                     [&](const NewLetter& l) { return l.letter_id == letter_id; });
}

}  // namespace

std::string resend_envelope_key(std::string_view receiver_gln, std::string_view envelope_id) {
  return "resend:" + std::string(receiver_gln) + ":" + std::string(envelope_id);
}

bool names_an_envelope(std::string_view envelope_id) {
  return !envelope_id.empty() && envelope_id != "ukendt";
}

AnsweredMessage answered_among(const ReceiptCandidates& candidates, std::string_view envelope_id,
                               std::string_view original_sender_gln,
                               std::string_view original_receiver_gln, std::string_view letter_id) {
  if (!names_an_envelope(envelope_id)) return {ReceiptMatch::kNamesNoEnvelope, 0};
  if (candidates.resent_in &&
      carried(*candidates.resent_in, original_sender_gln, original_receiver_gln, letter_id))
    return {ReceiptMatch::kAnswers, candidates.resent_in->id};
  const MessageRecord* newest = nullptr;
  for (const MessageRecord& m : candidates.received_in) {
    if (!carried(m, original_sender_gln, original_receiver_gln, letter_id)) continue;
    if (newest == nullptr || m.id > newest->id) newest = &m;
  }
  if (newest != nullptr) return {ReceiptMatch::kAnswers, newest->id};
  return {ReceiptMatch::kNeverSent, 0};
}

}  // namespace sektorbro
