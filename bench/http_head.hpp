// The head of an HTTP/1.1 message as the lean benchmark load needs it: the status (a response)
// or the method (a request), where the head ends, the body's Content-Length and whether the
// connection closes after it. Pure: bytes in, a decision out; no I/O, no allocation. Only what
// Sektorbro and its delivery client send is understood (Content-Length bodies); a chunked body
// is reported so that the caller can refuse it instead of misreading the stream.
#pragma once

#include <cstddef>
#include <string_view>

namespace sektorbro::bench {

enum class HeadState { incomplete, complete, malformed };

struct HttpHead {
  HeadState state = HeadState::incomplete;
  std::size_t size = 0;            // bytes of the head, with the blank line
  int status = 0;                  // a response's status code
  std::string_view method;         // a request's method (points into the parsed bytes)
  std::size_t content_length = 0;  // 0 without the header
  bool chunked = false;            // Transfer-Encoding: chunked (not supported by the load)
  bool close = false;              // Connection: close, or HTTP/1.0 without keep-alive
};

namespace http_head_detail {

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

inline bool icontains(std::string_view haystack, std::string_view needle) {
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i)
    if (iequals(haystack.substr(i, needle.size()), needle)) return true;
  return false;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace http_head_detail

// Parses the head at the start of `bytes`. `incomplete` until the blank line has arrived;
// `malformed` for a head longer than `max_head` or a first line or header that is not HTTP/1.x.
inline HttpHead parse_http_head(std::string_view bytes, bool is_response,
                                std::size_t max_head = 16 * 1024) {
  using namespace http_head_detail;
  HttpHead h;
  const std::size_t end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (bytes.size() > max_head) h.state = HeadState::malformed;
    return h;
  }
  h.size = end + 4;
  std::string_view head = bytes.substr(0, end + 2);
  auto next_line = [&head] {
    const std::size_t eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    return line;
  };
  const std::string_view first = next_line();
  bool http10 = false;
  if (is_response) {
    // "HTTP/1.1 202 Accepted"
    if (first.size() < 12 || first.substr(0, 7) != "HTTP/1." || first[8] != ' ') {
      h.state = HeadState::malformed;
      return h;
    }
    http10 = first[7] == '0';
    for (std::size_t i = 9; i < 12; ++i) {
      if (first[i] < '0' || first[i] > '9') {
        h.state = HeadState::malformed;
        return h;
      }
      h.status = h.status * 10 + (first[i] - '0');
    }
  } else {
    // "POST /inbox HTTP/1.1"
    const std::size_t sp = first.find(' ');
    const std::size_t sp2 = first.rfind(' ');
    if (sp == std::string_view::npos || sp2 == sp || first.substr(sp2 + 1, 7) != "HTTP/1.") {
      h.state = HeadState::malformed;
      return h;
    }
    h.method = first.substr(0, sp);
    http10 = first.substr(sp2 + 1) == "HTTP/1.0";
  }
  bool keep_alive = false;
  while (!head.empty()) {
    const std::string_view line = next_line();
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      h.state = HeadState::malformed;
      return h;
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      if (value.empty() || value.size() > 12) {
        h.state = HeadState::malformed;
        return h;
      }
      std::size_t n = 0;
      for (const char c : value) {
        if (c < '0' || c > '9') {
          h.state = HeadState::malformed;
          return h;
        }
        n = n * 10 + static_cast<std::size_t>(c - '0');
      }
      h.content_length = n;
    } else if (iequals(name, "transfer-encoding")) {
      h.chunked = icontains(value, "chunked");
    } else if (iequals(name, "connection")) {
      if (icontains(value, "close")) h.close = true;
      if (icontains(value, "keep-alive")) keep_alive = true;
    }
  }
  if (http10 && !keep_alive) h.close = true;
  h.state = HeadState::complete;
  return h;
}

}  // namespace sektorbro::bench
