// BeastTransport: deliveries as HTTP/1.1 POSTs with Boost.Beast, on one Asio thread of its own
// ("sb-post"), over kept-alive connections pooled per origin (scheme, host, port). Many
// transfers run at once; a slow or dead endpoint holds up only its own transfers.
//
// What a transfer does (the contract CurlTransport kept before it):
// - only http:// and https:// URLs; a redirect is an answer (its 3xx status), not followed;
// - `OutboundRequest::timeout` bounds the whole transfer (resolve, connect, TLS, request and
//   answer); then http_status 0 and the error "Timeout was reached";
// - an answer's body is kept up to 1 MiB; a larger one is dropped whole, with the answer's status
//   and the error "response too large", so no one parses half a receipt;
// - a request that fails on a reused connection before any byte of an answer came (the peer
//   closed it while it was idle) is sent once more on a new connection;
// - error texts name what failed, never the body (which may hold health content).
//
// TLS (issue 5): the receiver's certificate chain and host name (or IP address) are verified,
// TLS 1.2 or newer only; the broker's client certificate is presented when configured.
//
// Thread rules: post() from any thread; `done` runs on the transport thread, exactly once. The
// destructor fails transfers still running (http_status 0, "shutting down") and joins.
#pragma once

#include <memory>

#include "broker/core/result.hpp"
#include "broker/delivery/tls_client_options.hpp"
#include "broker/delivery/transport.hpp"

namespace sektorbro {

// Whether `tls` can be used: its CA file read, its client certificate and key read and belonging
// together. Start-up and --check-config ask it; a transport made with options that fail it fails
// every https:// delivery with the same reason.
Result<void> check_tls_client(const TlsClientOptions& tls);

class BeastTransport final : public Transport {
 public:
  explicit BeastTransport(TlsClientOptions tls = {});
  ~BeastTransport() override;
  BeastTransport(const BeastTransport&) = delete;
  BeastTransport& operator=(const BeastTransport&) = delete;
  void post(OutboundRequest request, std::function<void(TransportResponse)> done) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sektorbro
