// CurlTransport: libcurl's multi interface on one thread of its own, so many transfers run at
// once and a slow or dead endpoint does not hold up others.
//
// Thread rules: post() from any thread; `done` callbacks run on the transport thread. The
// destructor aborts transfers still running (their `done` gets http_status 0, "shutting down")
// and joins.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "broker/delivery/transport.hpp"

namespace sektorbro {

class CurlTransport final : public Transport {
 public:
  CurlTransport();
  ~CurlTransport() override;
  void post(OutboundRequest request, std::function<void(TransportResponse)> done) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sektorbro
