// A small blocking HTTP client for tests, the demo simulator and the benchmark (libcurl easy
// interface). One HttpClient per thread; it keeps its connection alive between calls.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace sektorbro::testing {

struct HttpResult {
  int status = 0;  // 0: no response (see error)
  std::string body;
  std::string error;
};

// TLS settings of a client: the CA it trusts and the certificate it presents (all optional).
struct ClientTls {
  std::string ca_file;
  std::string certificate_file;
  std::string key_file;
};

class HttpClient {
 public:
  explicit HttpClient(ClientTls tls = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult post(const std::string& url, const std::string& body,
                  const std::string& content_type = "application/xml; charset=utf-8",
                  std::chrono::milliseconds timeout = std::chrono::seconds{30});
  HttpResult get(const std::string& url,
                 std::chrono::milliseconds timeout = std::chrono::seconds{30});
  // Extra request headers for the following calls, e.g. "Authorization: Bearer …".
  void set_headers(std::vector<std::string> headers) { headers_ = std::move(headers); }

 private:
  HttpResult perform(const std::string& url, const std::string* body,
                     const std::string& content_type, std::chrono::milliseconds timeout);
  void* curl_;
  ClientTls tls_;
  std::vector<std::string> headers_;
};

}  // namespace sektorbro::testing
