// The outbound transport seam: POST a body to a URL and report what came back. BeastTransport
// is the real one; tests of the scheduler may use a fake.
#pragma once

#include <functional>
#include <string>

#include "broker/core/time.hpp"

namespace sektorbro {

struct OutboundRequest {
  std::string url;
  std::string body;
  std::string content_type = "application/xml; charset=utf-8";
  Duration timeout = std::chrono::seconds{10};
};

struct TransportResponse {
  int http_status = 0;  // 0 when no HTTP response was received
  std::string body;     // response body (may carry a receipt), capped in size
  std::string error;    // transport error text when http_status == 0; never content or CPR
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Starts the request and returns at once. `done` runs exactly once, on a transport thread.
  virtual void post(OutboundRequest request, std::function<void(TransportResponse)> done) = 0;
};

}  // namespace sektorbro
