#include "broker/routing/router.hpp"

#include <algorithm>

namespace sektorbro {
namespace {

bool accepts(const Endpoint& endpoint, LetterType type) {
  if (is_receipt(type)) return true;  // every endpoint takes receipts (MedCom reliable messaging)
  return std::find(endpoint.accepts.begin(), endpoint.accepts.end(), type) !=
         endpoint.accepts.end();
}

std::string describe(const Endpoint& endpoint) {
  return "endpoint " + endpoint.id + " (GLN " + endpoint.party.gln + ")";
}

}  // namespace

// On a repeated GLN or id the first endpoint wins; the configuration loader rejects repeats.
Directory::Directory(std::vector<Endpoint> endpoints) : endpoints_(std::move(endpoints)) {
  for (std::size_t i = 0; i < endpoints_.size(); ++i) {
    by_gln_.emplace(endpoints_[i].party.gln, i);
    by_id_.emplace(endpoints_[i].id, i);
  }
}

const Endpoint* Directory::by_gln(const std::string& gln) const {
  const auto it = by_gln_.find(gln);
  return it == by_gln_.end() ? nullptr : &endpoints_[it->second];
}

const Endpoint* Directory::by_id(const std::string& id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &endpoints_[it->second];
}

// Error details name GLNs, SOR codes, endpoint ids, letter ids and letter types only: all of
// them identify organisations or messages, none a person, so they may go into a negative
// receipt's RefuseText.
Result<Route> route_envelope(const Envelope& envelope, const Directory& directory) {
  if (envelope.letters.empty()) return make_error(Errc::kInvalid, "envelope has no letters");

  const Party& sender_party = envelope.sender();
  const Endpoint* sender = directory.by_gln(sender_party.gln);
  if (sender == nullptr) {
    return make_error(Errc::kUnknownSender,
                      "sender GLN " + sender_party.gln + " is not a known endpoint");
  }

  const Party& receiver_party = envelope.receiver();
  const Endpoint* receiver = directory.by_gln(receiver_party.gln);
  if (receiver == nullptr) {
    return make_error(Errc::kUnknownReceiver,
                      "receiver GLN " + receiver_party.gln + " is not a known endpoint");
  }
  if (receiver_party.sor != receiver->party.sor) {
    return make_error(Errc::kReceiverMismatch, "receiver SOR " + receiver_party.sor +
                                                   " does not match SOR " + receiver->party.sor +
                                                   " of " + describe(*receiver));
  }

  for (const Letter& letter : envelope.letters) {
    const LetterType type = letter.type();
    // Reminders are written by the broker's deadline engine only; an endpoint sending one
    // is either confused or impersonating the broker.
    if (type == LetterType::kReminder) {
      return make_error(Errc::kInvalid, "letter " + letter.id +
                                            ": Reminder letters are written by the broker only, "
                                            "not by endpoint " +
                                            sender->id);
    }
    if (!accepts(*receiver, type)) {
      return make_error(Errc::kUnsupportedType, "letter " + letter.id + ": " + describe(*receiver) +
                                                    " does not accept " +
                                                    std::string(to_string(type)) + " letters");
    }
  }
  return Route{sender, receiver};
}

}  // namespace sektorbro
