#include "broker/server/http_util.hpp"

#include <algorithm>

namespace sektorbro {
HttpResponse json_response(http::status status, const nlohmann::json& body) {
  return make_response(status, body.dump(2) + "\n", "application/json");
}

HttpResponse json_error(http::status status, std::string_view message) {
  return json_response(status, nlohmann::json{{"error", message}});
}

}  // namespace sektorbro
