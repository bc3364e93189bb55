// What the delivery transports need for https:// URLs.
#pragma once

#include <string>

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

}  // namespace sektorbro
