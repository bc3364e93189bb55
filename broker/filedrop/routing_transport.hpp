// RoutingTransport: one Transport for the broker that sends "file:" URLs to a file transport
// and every other URL to a network transport (BeastTransport), so delivery code never asks which
// kind of endpoint it talks to.
//
// Ownership: owns both transports; destroying it destroys the file transport first, then the
// network transport (each drains or aborts as it documents).
// Thread rules: post() from any thread; `done` runs on the thread of the chosen transport.
#pragma once

#include <memory>

#include "broker/delivery/transport.hpp"

namespace sektorbro {

class RoutingTransport final : public Transport {
 public:
  RoutingTransport(std::unique_ptr<Transport> files, std::unique_ptr<Transport> network);
  ~RoutingTransport() override;
  void post(OutboundRequest request, std::function<void(TransportResponse)> done) override;

 private:
  std::unique_ptr<Transport> network_;  // declared first: destroyed last
  std::unique_ptr<Transport> files_;
};

}  // namespace sektorbro
