// Fuzzes what the broker does with request bytes before a route runs: Beast's parser under the
// broker's header and body limits (as HttpServer sets them), then the target's path and query
// taken apart (split_path, parse_query), checked for text (target_is_text), the Content-Type read
// as a media type (parse_media_type, accepts_xml_content_type) and the bearer token read. Traps
// when the pieces break their contracts: a path segment never holds a '/', re-joining the
// segments and splitting again gives the same segments, and an accepted Content-Type is a parsed
// media type whose subtype is xml or ends in +xml.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "broker/http/media_type.hpp"
#include "broker/http/request_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace http = boost::beast::http;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(4 * 1024 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (used < size && !parser.is_done()) {
    const std::size_t n = parser.put(boost::asio::buffer(data + used, size - used), ec);
    if (ec || n == 0) break;
    used += n;
  }
  if (!parser.is_header_done()) return 0;
  const auto& request = parser.get();
  const std::string_view target(request.target().data(), request.target().size());
  const auto segments = sektorbro::split_path(sektorbro::path_of(target));
  std::string joined;
  for (const auto& s : segments) {
    if (s.empty()) __builtin_trap();
    joined += "/";
    for (char c : s)
      joined += c == '/' ? std::string("%2F") : (c == '%' ? std::string("%25") : std::string(1, c));
  }
  if (sektorbro::split_path(joined) != segments) __builtin_trap();
  const auto query = sektorbro::parse_query(sektorbro::query_of(target));
  (void)query;
  volatile bool text = sektorbro::target_is_text(target);
  (void)text;
  const auto content_type = request[http::field::content_type];
  const std::string_view type(content_type.data(), content_type.size());
  if (sektorbro::accepts_xml_content_type(type)) {
    const auto media = sektorbro::parse_media_type(type);
    if (!media || !(media->subtype == "xml" || media->subtype.ends_with("+xml"))) __builtin_trap();
  }
  const auto authorization = request[http::field::authorization];
  if (authorization.size() > 7 && authorization.substr(0, 7) == "Bearer ") {
    volatile std::size_t token_size = authorization.size() - 7;
    (void)token_size;
  }
  return 0;
}
