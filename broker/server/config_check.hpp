// `sektorbro --check-config FILE`: everything start-up checks before it serves, without serving.
#pragma once

#include <string>

#include "broker/config/config.hpp"
#include "broker/core/result.hpp"
#include "broker/delivery/tls_client_options.hpp"

namespace sektorbro {

// Loads and checks the configuration as start-up does, through the same code:
//  - every key (load_config: types, ranges, endpoints and their inbox folders, TLS and operator
//    rules, TLS files readable);
//  - the listener's TLS material — certificate chain, key, that the key belongs to the
//    certificate, the client CA — or the plain-HTTP loopback rule, loaded by HttpServer itself,
//    which binds the configured address on a port the kernel picks and closes it at once (the
//    configured port is not tried: a running broker holds it);
//  - the deliveries' TLS material (check_tls_client: the CA file, the client certificate and its
//    key), which the transport loads;
//  - the console's assets (console::StaticAssets::load), which Broker::start loads.
// It never opens or locks the store, and binds nothing that outlives the call. The error is the
// one line start-up would print.
Result<BrokerConfig> check_config_file(const std::string& path);

// The deliveries' TLS options of `config` (outbound_tls; none: the system's CAs, no client
// certificate).
TlsClientOptions outbound_tls_options(const BrokerConfig& config);

}  // namespace sektorbro
