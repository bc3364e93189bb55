#include "broker/http/http_server.hpp"

#include <iostream>

namespace sektorbro {

HttpResponse make_response(http::status status, std::string body, std::string content_type,
                           unsigned version) {
  HttpResponse res{status, version};
  res.set(http::field::server, "sektorbro/0.1");
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

HttpServer::HttpServer(asio::io_context& io, HttpLimits limits, HttpHandler handler)
    : io_(io), limits_(limits), handler_(std::move(handler)), acceptor_(io) {}

HttpServer::~HttpServer() = default;

Result<unsigned short> HttpServer::listen(const std::string& address, unsigned short port) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) return make_error(Errc::kConfig, "listen address '" + address + "' is not an IP address");
  const tcp::endpoint endpoint{ip, port};
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(Errc::kConfig, "cannot listen on " + address + ":" + std::to_string(port) +
                                         ": " + ec.message());
  }
  const unsigned short bound = acceptor_.local_endpoint().port();
  asio::co_spawn(io_, accept_loop(), asio::detached);
  return bound;
}

void HttpServer::stop() {
  stopping_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
}

asio::awaitable<void> HttpServer::accept_loop() {
  while (!stopping_) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) co_return;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    asio::co_spawn(io_, session(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> HttpServer::session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    boost::system::error_code ec;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser.body_limit(limits_.max_body_bytes);

    stream.expires_after(limits_.header_timeout);
    co_await http::async_read_header(stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    std::optional<HttpResponse> refusal;
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      break;
    } else if (ec == http::error::header_limit) {
      refusal = make_response(http::status::request_header_fields_too_large,
                              "request header too large\n", "text/plain");
    } else if (ec) {
      refusal = make_response(http::status::bad_request, "malformed HTTP request\n", "text/plain");
    } else {
      if (const auto length = parser.content_length(); length && *length > limits_.max_body_bytes) {
        refusal =
            make_response(http::status::payload_too_large,
                          "body larger than " + std::to_string(limits_.max_body_bytes) + " bytes\n",
                          "text/plain");
      } else {
        stream.expires_after(limits_.body_timeout);
        co_await http::async_read(stream, buffer, parser,
                                  asio::redirect_error(asio::use_awaitable, ec));
        if (ec == http::error::body_limit) {
          refusal = make_response(
              http::status::payload_too_large,
              "body larger than " + std::to_string(limits_.max_body_bytes) + " bytes\n",
              "text/plain");
        } else if (ec == beast::error::timeout) {
          refusal = make_response(http::status::request_timeout, "body not received in time\n",
                                  "text/plain");
        } else if (ec) {
          break;
        }
      }
    }

    bool keep_alive = false;
    HttpResponse response;
    if (refusal) {
      response = std::move(*refusal);
    } else {
      HttpRequest request = parser.release();
      keep_alive = request.keep_alive();
      const unsigned version = request.version();
      // The awaitable is a named local: GCC 12 destroys temporaries in a co_await statement twice.
      auto handling = handler_(std::move(request));
      response = co_await std::move(handling);
      response.version(version);
    }
    response.keep_alive(keep_alive && !stopping_);
    stream.expires_after(limits_.body_timeout);
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !response.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace sektorbro
