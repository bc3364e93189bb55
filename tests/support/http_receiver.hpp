// HttpReceiver: a real HTTP/1.1 server on 127.0.0.1 (a free port) that stands in for a
// jobcenter or psychiatry system in tests. It records every request and answers as its handler
// says, optionally after a server-side delay (a slow endpoint), with keep-alive. Optionally it
// speaks TLS, with or without client certificates (mutual TLS).
//
// Thread rules: the server runs on an io_context thread of its own; the handler runs on that
// thread. Every public member is safe to call from any thread. The destructor stops the server
// and joins its thread; connections still open are dropped.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sektorbro::testing {

struct ReceivedRequest {
  std::string method;        // "POST"
  std::string target;        // "/inbox"
  std::string content_type;  // the Content-Type header, as sent
  std::string body;
  std::string client_cn;  // TLS: the verified client certificate's subject CN, else empty
};

// TLS for the receiver (PEM files, e.g. from deploy/make-test-pki.sh).
struct ReceiverTls {
  std::string certificate_file;
  std::string key_file;
  std::string client_ca_file;               // empty: no client certificate asked for
  bool require_client_certificate = false;  // with client_ca_file
};

struct ReplyPlan {
  int status = 200;
  std::string body;
  std::string content_type = "application/xml; charset=utf-8";
  // Waited on an asio timer before the reply is written: simulates a slow endpoint without
  // blocking the server's thread.
  std::chrono::milliseconds delay{0};
};

class HttpReceiver {
 public:
  using Handler = std::function<ReplyPlan(const ReceivedRequest&)>;

  // Binds 127.0.0.1:`port` and starts serving. Tests leave port 0 (a free port); the demo
  // simulator passes the port of a configured endpoint URL, and gets a std::system_error naming
  // it when that port is taken. An empty handler answers 200 with no body; a handler that
  // throws makes the receiver answer 500.
  explicit HttpReceiver(Handler handler = {}, unsigned short port = 0);
  // The same over TLS; throws std::runtime_error naming the file that cannot be loaded.
  HttpReceiver(Handler handler, unsigned short port, const ReceiverTls& tls);
  ~HttpReceiver();
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  unsigned short port() const;
  // "http://127.0.0.1:<port><path>" ("https://" with TLS)
  std::string url(const std::string& path = "/inbox") const;

  // Replaces the handler for requests that arrive from now on.
  void set_handler(Handler handler);

  // Every request received so far, in arrival order (recorded before the handler runs).
  std::vector<ReceivedRequest> received() const;

  // Waits until pred(received()) holds or the timeout passes; false on timeout. Woken by each
  // arriving request, never by polling.
  bool wait_until(const std::function<bool(const std::vector<ReceivedRequest>&)>& pred,
                  std::chrono::milliseconds timeout) const;

 private:
  void start(Handler handler, unsigned short port);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sektorbro::testing
