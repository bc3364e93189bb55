// The console's HTTP answers: StaticAssets turned into Beast responses, so mounting the console
// on the operators' listener is one call. No I/O: a request in, a response out.
//
//   GET|HEAD /console          → 308 to /console/
//   GET|HEAD /console/<path>   → 200 with the file (304 when If-None-Match names its ETag),
//                                400 for a path that tries to leave the folder, 404 otherwise
//   other methods              → 405 (Allow: GET, HEAD)
//
// The caller decides who may see the console (the same operator authentication as the JSON API,
// or none for the static files themselves: they hold no data, every answer they show comes from
// the authenticated API).
#pragma once

#include <string_view>

#include "broker/console/static_assets.hpp"
#include "broker/http/http_server.hpp"

namespace sektorbro::console {

inline constexpr std::string_view kMountPoint = "/console";

// True if `target` (the request target, query included) is under the console's mount point.
bool is_console_target(std::string_view target);

HttpResponse answer_console(const StaticAssets& assets, const HttpRequest& request);

}  // namespace sektorbro::console
