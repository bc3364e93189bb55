#include "broker/filedrop/routing_transport.hpp"

#include "broker/filedrop/file_transport.hpp"

namespace sektorbro {

RoutingTransport::RoutingTransport(std::unique_ptr<Transport> files,
                                   std::unique_ptr<Transport> network)
    : network_(std::move(network)), files_(std::move(files)) {}

RoutingTransport::~RoutingTransport() = default;

void RoutingTransport::post(OutboundRequest request, std::function<void(TransportResponse)> done) {
  Transport& target = is_file_url(request.url) ? *files_ : *network_;
  target.post(std::move(request), std::move(done));
}

}  // namespace sektorbro
