#include "broker/server/broker_letters.hpp"

#include "broker/codec/codec.hpp"
#include "broker/core/identifiers.hpp"

namespace sektorbro {
namespace {

std::string base36(std::uint64_t v, std::size_t width) {
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string out(width, '0');
  for (std::size_t i = width; i-- > 0;) {
    out[i] = kDigits[v % 36];
    v /= 36;
  }
  return out;
}

}  // namespace

std::string BrokerIds::next() {
  const auto ms = static_cast<std::uint64_t>(to_millis(clock_.now()));
  return "SB" + base36(ms, 8) + base36(counter_++ % 1296, 2);
}

Envelope broker_envelope(const Party& identity, const Party& to, LetterBody body, TimePoint now,
                         const std::string& id) {
  Envelope envelope;
  envelope.id = id;
  envelope.sent = now;
  Letter letter;
  letter.id = id;
  letter.authorised = now;
  letter.sender = identity;
  letter.receiver = to;
  letter.body = std::move(body);
  envelope.letters.push_back(std::move(letter));
  return envelope;
}

std::vector<std::string> citizen_keys_of_stored(const CitizenKeyer* keyer,
                                                std::string_view stored_body) {
  if (keyer == nullptr || stored_body.empty()) return {};
  auto envelope = decode_envelope(stored_body);
  if (!envelope) return {};
  std::vector<std::string> cprs;
  for (const Letter& letter : envelope->letters)
    if (letter.patient) cprs.push_back(letter.patient->cpr);
  return keyer->keys_of(cprs);
}

MessagePlan broker_message_plan(const Envelope& envelope, const Party& identity,
                                const Endpoint& to, TimePoint now, const std::string& why) {
  MessagePlan plan;
  NewMessage& message = plan.message;
  message.envelope_id = envelope.id;
  message.sender_gln = identity.gln;
  message.receiver_gln = to.party.gln;
  message.sender_endpoint = std::string(kBrokerEndpoint);
  message.receiver_endpoint = to.id;
  for (const auto& letter : envelope.letters) {
    message.letters.push_back(
        {letter.id, letter.type(), sha256_hex(encode_letter(letter)), letter.status});
    message.contains_cpr = message.contains_cpr || letter.patient.has_value();
  }
  message.body = encode_envelope(envelope);
  message.acceptance =
      encode_acceptance({envelope.id, identity.gln, {envelope.letters.front().id}, now});
  message.received_at = now;
  plan.events.push_back(MessageEvent{0, now, "received",
                                     "written by the broker for " + to.id + ": " + why, ""});
  return plan;
}

}  // namespace sektorbro
