#include "broker/server/fresh_messages.hpp"

#include "broker/codec/codec.hpp"

namespace sektorbro {
namespace {

// The record's fixed part and the hash-map node around it.
constexpr std::size_t kEntryOverhead = sizeof(FreshMessages::Entry) + 64;

}  // namespace

std::size_t FreshMessages::footprint(const NewMessage& m, const std::vector<Letter>* requests) {
  std::size_t n = kEntryOverhead + m.body.size() + m.envelope_id.size() + m.sender_gln.size() +
                  m.receiver_gln.size() + m.sender_endpoint.size() + m.receiver_endpoint.size();
  for (const NewLetter& l : m.letters)
    n += sizeof(NewLetter) + l.letter_id.size() + l.content_hash.size();
  if (requests != nullptr) {
    n += sizeof(std::vector<Letter>);
    for (const Letter& l : *requests) n += sizeof(Letter) + approximate_letter_bytes(l);
  }
  return n;
}

bool FreshMessages::remember(std::int64_t id, const MessagePlan& plan,
                             std::shared_ptr<const std::vector<Letter>> requests) {
  const NewMessage& m = plan.message;
  const std::size_t bytes = footprint(m, requests.get());
  if (bytes_ + bytes > limit_ || entries_.contains(id)) return false;
  MessageRecord r;
  r.id = id;
  r.envelope_id = m.envelope_id;
  r.sender_gln = m.sender_gln;
  r.receiver_gln = m.receiver_gln;
  r.sender_endpoint = m.sender_endpoint;
  r.receiver_endpoint = m.receiver_endpoint;
  r.letters = m.letters;
  r.body = m.body;  // a copy as long as the body, not the encoder's larger buffer
  r.receipt_requested = m.receipt_requested;
  r.contains_cpr = m.contains_cpr;
  r.received_at = m.received_at;
  r.state = DeliveryState::kPending;
  r.next_attempt_at = m.received_at;
  bytes_ += bytes;
  entries_.emplace(id, Entry{std::move(r), std::move(requests), bytes});
  return true;
}

std::optional<FreshMessages::Entry> FreshMessages::take(std::int64_t id) {
  const auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  Entry e = std::move(it->second);
  entries_.erase(it);
  bytes_ -= e.bytes;
  return e;
}

void FreshMessages::forget(std::int64_t id) { (void)take(id); }

}  // namespace sektorbro
