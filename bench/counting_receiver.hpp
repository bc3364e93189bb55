// CountingReceiver: the side-by-side bench's stand-in for the jobcenter and psychiatry systems
// (issue 8). A real HTTP/1.1 server on 127.0.0.1 (a free port) that answers every request
// 200 at once over keep-alive, as testing::HttpReceiver does with no handler, but records
// nothing: it calls `on_request` once per complete request and throws the bytes away. The
// HttpReceiver keeps method, target, headers and the 4 KB body of every request in a vector
// under a mutex, which the bench's load paid for on the cores it shares with the broker.
// Content-Length bodies only (what the broker's libcurl transport sends; it sends no
// "Expect: 100-continue"); a chunked or malformed request ends its connection uncounted.
//
// Thread rules: the server runs on one io_context thread of its own, and `on_request` runs on
// it. port() and url() may be called from any thread. The destructor stops the server and
// joins its thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace sektorbro::bench {

class CountingReceiver {
 public:
  explicit CountingReceiver(std::function<void()> on_request);
  ~CountingReceiver();
  CountingReceiver(const CountingReceiver&) = delete;
  CountingReceiver& operator=(const CountingReceiver&) = delete;

  unsigned short port() const;
  // "http://127.0.0.1:<port><path>"
  std::string url(const std::string& path = "/inbox") const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sektorbro::bench
