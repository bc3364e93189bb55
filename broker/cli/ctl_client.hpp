// CtlClient: sektorbro-ctl's HTTP calls to the broker's operators' API (libcurl): verifies an
// https broker against the configured CA (or the system's), presents the operator's client
// certificate, sends the bearer token. One connection, kept alive between calls.
#pragma once

#include <string>

#include "broker/cli/ctl_settings.hpp"

namespace sektorbro::ctl {

struct Answer {
  long status = 0;  // 0: no answer (see error)
  std::string body;
  std::string error;
};

class CtlClient {
 public:
  explicit CtlClient(Settings settings);
  ~CtlClient();
  CtlClient(const CtlClient&) = delete;
  CtlClient& operator=(const CtlClient&) = delete;

  // `path` starts with "/v1/…".
  Answer get(const std::string& path) { return call(path, false); }
  Answer post(const std::string& path) { return call(path, true); }
  const std::string& broker() const { return settings_.broker; }

 private:
  Answer call(const std::string& path, bool post);
  Settings settings_;
  void* curl_;
};

// Percent-encodes one path segment or query value (RFC 3986 unreserved characters stay).
std::string url_encode(const std::string& s);

}  // namespace sektorbro::ctl
