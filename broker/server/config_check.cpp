#include "broker/server/config_check.hpp"

#include "broker/console/static_assets.hpp"
#include "broker/delivery/beast_transport.hpp"
#include "broker/http/http_server.hpp"

namespace sektorbro {

namespace {

// The listener as main.cpp sets it up, on port 0 of the configured address.
Result<void> check_listener(const BrokerConfig& config) {
  asio::io_context io{1};
  HttpServer server(io, HttpLimits{}, HttpHandler{});
  Result<unsigned short> port = make_error(Errc::kConfig, "no listener configured");
  if (config.tls) {
    TlsServerOptions tls;
    tls.certificate_file = config.tls->certificate;
    tls.key_file = config.tls->key;
    tls.client_ca_file = config.tls->client_ca;
    tls.require_client_certificate = config.tls->require_client_certificate;
    port = server.listen_tls(config.listen.address, 0, tls);
  } else if (config.listen.allow_plain_http) {
    port = server.listen(config.listen.address, 0);
  }
  server.stop();
  if (!port) return port.error();
  return {};
}

}  // namespace

TlsClientOptions outbound_tls_options(const BrokerConfig& config) {
  TlsClientOptions outbound;
  if (config.outbound_tls) {
    outbound.ca_file = config.outbound_tls->ca;
    outbound.certificate_file = config.outbound_tls->certificate;
    outbound.key_file = config.outbound_tls->key;
  }
  return outbound;
}

Result<BrokerConfig> check_config_file(const std::string& path) {
  auto config = load_config(path);
  if (!config) return config.error();
  if (auto r = check_listener(*config); !r) return r.error();
  if (auto r = check_tls_client(outbound_tls_options(*config)); !r) return r.error();
  if (!config->console_assets.empty()) {
    auto assets = console::StaticAssets::load(config->console_assets);
    if (!assets) return assets.error();
  }
  return config;
}

}  // namespace sektorbro
