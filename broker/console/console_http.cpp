#include "broker/console/console_http.hpp"

namespace sektorbro::console {

bool is_console_target(std::string_view target) {
  if (!target.starts_with(kMountPoint)) return false;
  const std::string_view rest = target.substr(kMountPoint.size());
  return rest.empty() || rest.front() == '/' || rest.front() == '?';
}

HttpResponse answer_console(const StaticAssets& assets, const HttpRequest& request) {
  const bool head = request.method() == http::verb::head;
  if (request.method() != http::verb::get && !head) {
    HttpResponse res = make_response(http::status::method_not_allowed, "GET or HEAD only\n",
                                     "text/plain; charset=utf-8", request.version());
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view rest = target.substr(kMountPoint.size());
  if (rest.empty() || rest.front() == '?') {
    HttpResponse res = make_response(http::status::permanent_redirect, "",
                                     "text/plain; charset=utf-8", request.version());
    res.set(http::field::location, std::string(kMountPoint) + "/");
    return res;
  }
  const auto if_none_match = request[http::field::if_none_match];
  auto found = assets.find(rest.substr(1),
                           std::string_view(if_none_match.data(), if_none_match.size()));
  if (!found) {
    const bool bad = found.error().code == Errc::kInvalid;
    return make_response(bad ? http::status::bad_request : http::status::not_found,
                         bad ? "bad console path\n" : "no such console file\n",
                         "text/plain; charset=utf-8", request.version());
  }
  HttpResponse res{found->not_modified ? http::status::not_modified : http::status::ok,
                   request.version()};
  res.set(http::field::server, "sektorbro/0.1");
  for (const auto& [name, value] : found->headers) res.set(name, value);
  if (!found->not_modified) {
    res.body() = found->asset->body;
    res.prepare_payload();
    if (head) {
      res.body().clear();  // Content-Length still says the file's size
    }
  }
  return res;
}

}  // namespace sektorbro::console
