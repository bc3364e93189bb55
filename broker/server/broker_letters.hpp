// Letters the broker writes itself — negative receipts for what it refuses or what a receiver
// refused, reminders — and the ids it gives them. Pure except for BrokerIds' counter; io thread.
#pragma once

#include <cstdint>
#include <string>

#include "broker/console/citizen_key.hpp"
#include "broker/core/clock.hpp"
#include "broker/message/message.hpp"
#include "broker/routing/endpoint.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

// The endpoint id the store records for broker-written messages.
inline constexpr std::string_view kBrokerEndpoint = "broker";

// Envelope and letter ids for the broker's own letters: "SB" + 8 base-36 digits of the
// millisecond clock + 2 of a counter — 12 characters, within MedCom's 14, unique while fewer
// than 1,296 ids are made in one millisecond.
class BrokerIds {
 public:
  explicit BrokerIds(const Clock& clock) : clock_(clock) {}
  std::string next();

 private:
  const Clock& clock_;
  std::uint32_t counter_ = 0;
};

// One letter from the broker (`identity`) to `to`, in an envelope of its own with id `id`.
Envelope broker_envelope(const Party& identity, const Party& to, LetterBody body, TimePoint now,
                         const std::string& id);

// The store plan for a broker-written envelope to endpoint `to`: its ids are new, so no
// duplicate rule applies; "received" records that the broker wrote it.
MessagePlan broker_message_plan(const Envelope& envelope, const Party& identity,
                                const Endpoint& to, TimePoint now, const std::string& why);

// The citizen index's keys (issue 10) for a letter the broker writes about a stored message — a
// reminder about a request, a negative receipt relayed for a message: the keys of that
// message's patients, read from its stored body (the broker's letters name no patient, yet they
// are about one, and an acting operator's CPR search must find them). Empty without a keyer, or
// when the body is gone (retention) or cannot be read.
std::vector<std::string> citizen_keys_of_stored(const CitizenKeyer* keyer,
                                                std::string_view stored_body);

}  // namespace sektorbro
