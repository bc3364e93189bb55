// Routing decisions without I/O: which endpoint receives an envelope, or why none does.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "broker/core/result.hpp"
#include "broker/message/message.hpp"
#include "broker/routing/endpoint.hpp"

namespace sektorbro {

// The endpoints by GLN. Immutable after construction; safe to share across threads.
class Directory {
 public:
  explicit Directory(std::vector<Endpoint> endpoints);
  const Endpoint* by_gln(const std::string& gln) const;
  const Endpoint* by_id(const std::string& id) const;
  const std::vector<Endpoint>& all() const { return endpoints_; }

 private:
  std::vector<Endpoint> endpoints_;
  std::unordered_map<std::string, std::size_t> by_gln_;
  std::unordered_map<std::string, std::size_t> by_id_;
};

struct Route {
  const Endpoint* sender;
  const Endpoint* receiver;
};

// Decides the route for a validated envelope:
//  - sender GLN not configured                   → kUnknownSender
//  - receiver GLN not configured                 → kUnknownReceiver (ukendt_lokationsnummer)
//  - receiver SOR differs from the configured one → kReceiverMismatch (problem_med_modtagerID)
//  - a letter type the receiver does not accept   → kUnsupportedType (problem_med_version)
//  - a Reminder from an endpoint (only the broker writes them) → kInvalid
// Receipts are accepted by every endpoint.
Result<Route> route_envelope(const Envelope& envelope, const Directory& directory);

}  // namespace sektorbro
