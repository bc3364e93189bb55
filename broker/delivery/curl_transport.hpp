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

// TLS for https:// URLs (issue 5: deliveries verify the receiver and present the broker's own
// certificate). Paths are PEM files. The peer's certificate and host name are always verified,
// and only TLS 1.2 or newer is spoken.
struct TlsClientOptions {
  // The only CAs trusted for receivers. Empty: the system's CA store.
  std::string ca_file;
  // The broker's client certificate and key for mutual TLS; empty: none presented.
  std::string certificate_file;
  std::string key_file;
};

class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(TlsClientOptions tls = {});
  ~CurlTransport() override;
  void post(OutboundRequest request, std::function<void(TransportResponse)> done) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sektorbro
