// The JSON API's OpenAPI 3 description (docs/openapi.yaml), embedded at build time and served
// by the broker at GET /v1/openapi.yaml (issue 10). CMake re-reads the file when it changes.
#pragma once

#include <string_view>

namespace sektorbro::console {

// docs/openapi.yaml, byte for byte.
std::string_view openapi_yaml();

}  // namespace sektorbro::console
