// HttpServer: an HTTP/1.1 listener on an io_context, one coroutine per connection (Beast).
// It enforces the transport limits — header size, body size, header and body timeouts — before
// any handler sees a byte, answers what it refuses itself (413, 431, 400, 408) and hands each
// complete request to the handler. It knows nothing about messages.
//
// Thread rules: construct, listen and stop on the io_context's thread (or before it runs); the
// handler runs on that thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "broker/core/result.hpp"
#include "broker/core/time.hpp"
#include "broker/http/asio.hpp"

namespace sektorbro {

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;
using HttpHandler = std::function<asio::awaitable<HttpResponse>(HttpRequest)>;

struct HttpLimits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  Duration header_timeout = std::chrono::seconds{10};  // from connection idle to full header
  Duration body_timeout = std::chrono::seconds{30};    // for the body once the header is in
};

class HttpServer {
 public:
  HttpServer(asio::io_context& io, HttpLimits limits, HttpHandler handler);
  ~HttpServer();

  // Binds and starts accepting. Returns the bound port (useful with port 0).
  Result<unsigned short> listen(const std::string& address, unsigned short port);
  // Stops accepting and closes idle connections; requests in progress finish.
  void stop();

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(tcp::socket socket);

  asio::io_context& io_;
  HttpLimits limits_;
  HttpHandler handler_;
  tcp::acceptor acceptor_;
  bool stopping_ = false;
};

// A plain-text or JSON/XML answer with the usual headers.
HttpResponse make_response(http::status status, std::string body, std::string content_type,
                           unsigned version = 11);

}  // namespace sektorbro
