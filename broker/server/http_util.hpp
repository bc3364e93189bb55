// Small helpers for the broker's HTTP API: paths, query strings, JSON answers.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "broker/http/http_server.hpp"
#include "broker/http/request_target.hpp"

namespace sektorbro {

HttpResponse json_response(http::status status, const nlohmann::json& body);
HttpResponse json_error(http::status status, std::string_view message);

}  // namespace sektorbro
