// The JSON API's route table (issue 10): every method and path the broker answers under /v1/,
// as OpenAPI path templates ("/v1/messages/{sender_gln}/{letter_id}"). Broker::handle lets
// through only a request that matches a row here (anything else is 404 before any handler), so
// the table is what the broker serves; the OpenAPI test (tests/integration/openapi_test.cpp)
// requires docs/openapi.yaml to describe exactly these rows, and calls each one on the real
// broker. A route added to the dispatch without a row here answers 404; a row without a
// description fails the test.
//
// Outside the table (not the JSON API): GET /metrics (Prometheus text) and /console/ (the web
// console's files). A row marked `manual_clock_only` is served only by a broker started on a
// manual clock (tests); elsewhere it answers 404.
#pragma once

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sektorbro {

struct ApiRoute {
  std::string_view method;   // "GET", "POST", "DELETE"
  std::string_view pattern;  // "{name}" stands for one path segment
  bool manual_clock_only = false;
};

inline constexpr std::array kApiRoutes = {
    ApiRoute{"GET", "/v1/health"},
    ApiRoute{"GET", "/v1/health/live"},
    ApiRoute{"GET", "/v1/health/ready"},
    ApiRoute{"GET", "/v1/whoami"},
    ApiRoute{"GET", "/v1/store"},
    ApiRoute{"GET", "/v1/counts"},
    ApiRoute{"GET", "/v1/openapi.yaml"},
    ApiRoute{"GET", "/v1/messages"},
    ApiRoute{"POST", "/v1/messages"},
    ApiRoute{"POST", "/v1/messages/search-by-cpr"},
    ApiRoute{"GET", "/v1/messages/{sender_gln}/{letter_id}"},
    ApiRoute{"POST", "/v1/messages/{sender_gln}/{letter_id}/requeue"},
    ApiRoute{"POST", "/v1/messages/{sender_gln}/{letter_id}/hold"},
    ApiRoute{"DELETE", "/v1/messages/{sender_gln}/{letter_id}/hold"},
    ApiRoute{"POST", "/v1/citizens/hold"},
    ApiRoute{"DELETE", "/v1/citizens/hold"},
    ApiRoute{"GET", "/v1/holds"},
    ApiRoute{"GET", "/v1/letters/{letter_id}"},
    ApiRoute{"GET", "/v1/dead-letters"},
    ApiRoute{"GET", "/v1/deadlines"},
    ApiRoute{"GET", "/v1/stats/certificates"},
    ApiRoute{"GET", "/v1/stats/mentor-responses"},
    ApiRoute{"GET", "/v1/mailbox"},
    ApiRoute{"POST", "/v1/mailbox/{message_id}/confirm"},
    ApiRoute{"POST", "/v1/test/clock/advance", true},
};

// Whether `segments` (the decoded path split at '/', empty segments dropped: split_path) are an
// instance of `pattern`: the same number of segments, each equal or a "{name}" placeholder.
inline bool path_matches(std::string_view pattern, const std::vector<std::string>& segments) {
  std::size_t i = 0;
  while (!pattern.empty()) {
    if (pattern.front() == '/') {
      pattern.remove_prefix(1);
      continue;
    }
    const std::size_t end = std::min(pattern.find('/'), pattern.size());
    const std::string_view part = pattern.substr(0, end);
    pattern.remove_prefix(end);
    if (i == segments.size()) return false;
    const bool placeholder = part.size() >= 2 && part.front() == '{' && part.back() == '}';
    if (!placeholder && part != segments[i]) return false;
    ++i;
  }
  return i == segments.size();
}

// The row a request matches (fixed segments win: rows are listed so that a literal row comes
// before a placeholder row of the same shape), or nullopt: no such resource.
inline std::optional<ApiRoute> match_api_route(std::string_view method,
                                               const std::vector<std::string>& segments) {
  for (const ApiRoute& r : kApiRoutes)
    if (r.method == method && path_matches(r.pattern, segments)) return r;
  return std::nullopt;
}

}  // namespace sektorbro
