// A small blocking HTTP client for tests, the demo simulator and the benchmark (libcurl easy
// interface). One HttpClient per thread; it keeps its connection alive between calls.
#pragma once

#include <chrono>
#include <string>

namespace sektorbro::testing {

struct HttpResult {
  int status = 0;  // 0: no response (see error)
  std::string body;
  std::string error;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult post(const std::string& url, const std::string& body,
                  const std::string& content_type = "application/xml; charset=utf-8",
                  std::chrono::milliseconds timeout = std::chrono::seconds{30});
  HttpResult get(const std::string& url,
                 std::chrono::milliseconds timeout = std::chrono::seconds{30});

 private:
  HttpResult perform(const std::string& url, const std::string* body,
                     const std::string& content_type, std::chrono::milliseconds timeout);
  void* curl_;
};

}  // namespace sektorbro::testing
