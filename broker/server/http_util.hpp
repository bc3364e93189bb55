// Small helpers for the broker's HTTP API: paths, query strings, JSON answers.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "broker/http/http_server.hpp"

namespace sektorbro {

// "/v1/messages/579/REQ1" → {"v1", "messages", "579", "REQ1"}
std::vector<std::string> split_path(std::string_view path);
// "a=1&b=x%20y" → {{"a","1"},{"b","x y"}}
std::map<std::string, std::string> parse_query(std::string_view query);
// The query of a request target ("" if none).
std::string_view query_of(std::string_view target);

HttpResponse json_response(http::status status, const nlohmann::json& body);
HttpResponse json_error(http::status status, std::string_view message);

}  // namespace sektorbro
