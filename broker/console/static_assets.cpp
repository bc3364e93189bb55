#include "broker/console/static_assets.hpp"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace sektorbro::console {

namespace fs = std::filesystem;

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Error invalid(std::string detail) { return Error{Errc::kInvalid, std::move(detail)}; }

// FNV-1a, 64 bits: an ETag only has to change when the content does.
std::string etag_of(std::string_view body) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// True if the If-None-Match header names `etag` (a list, "*", or weak forms W/"…").
bool matches_etag(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match.empty()) return false;
  if (if_none_match == "*") return true;
  std::size_t i = 0;
  while (i < if_none_match.size()) {
    std::size_t j = if_none_match.find(',', i);
    if (j == std::string_view::npos) j = if_none_match.size();
    std::string_view tag = if_none_match.substr(i, j - i);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
    i = j + 1;
  }
  return false;
}

}  // namespace

Result<std::string> asset_relative_path(std::string_view path) {
  path = path.substr(0, path.find_first_of("?#"));
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string decoded;
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size()) return invalid("a %-escape is cut short");
      const int hi = hex_digit(path[i + 1]);
      const int lo = hex_digit(path[i + 2]);
      if (hi < 0 || lo < 0) return invalid("a %-escape is not two hex digits");
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return invalid("a control character in the path");
    if (c == '\\') return invalid("a backslash in the path");
    decoded += c;
  }
  if (decoded.empty() || decoded.back() == '/') decoded += "index.html";
  std::size_t start = 0;
  while (start <= decoded.size()) {
    std::size_t end = decoded.find('/', start);
    if (end == std::string::npos) end = decoded.size();
    const std::string_view segment(decoded.data() + start, end - start);
    if (segment.empty()) return invalid("an empty segment in the path");
    if (segment.front() == '.') return invalid("a path segment may not start with '.'");
    start = end + 1;
  }
  return decoded;
}

std::string content_type_for(std::string_view name) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".yaml", "application/yaml"},
  };
  for (const auto& [ext, type] : kTypes)
    if (ends_with(name, ext)) return std::string(type);
  return "application/octet-stream";
}

std::string cache_control_for(std::string_view relative_path) {
  if (relative_path.starts_with("assets/")) return "public, max-age=31536000, immutable";
  return "no-cache";
}

Result<StaticAssets> StaticAssets::load(const std::string& root, AssetLimits limits) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return Error{Errc::kConfig, "console assets: " + root + " is not a folder"};
  StaticAssets assets;
  std::size_t total = 0;
  const fs::path base(root);
  fs::recursive_directory_iterator it(base, fs::directory_options::none, ec);
  if (ec) return Error{Errc::kConfig, "console assets: cannot read " + root + ": " + ec.message()};
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Error{Errc::kConfig, "console assets: cannot read " + root + ": " + ec.message()};
    const fs::path& p = it->path();
    const std::string name = p.filename().string();
    if (!name.empty() && name.front() == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;  // hidden: never served
    }
    if (it->is_symlink(ec)) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;  // a link could point outside the folder
    }
    if (!it->is_regular_file(ec)) continue;
    std::string relative = p.lexically_relative(base).generic_string();
    const auto checked = asset_relative_path(relative);
    if (!checked || *checked != relative) continue;  // a name no request could ask for
    if (assets.files_.size() + 1 > limits.max_files)
      return Error{Errc::kConfig, "console assets: more than " +
                                      std::to_string(limits.max_files) + " files in " + root};
    std::ifstream in(p, std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    if (!in) return Error{Errc::kConfig, "console assets: cannot read " + p.string()};
    Asset a;
    a.body = body.str();
    total += a.body.size();
    if (total > limits.max_total_bytes)
      return Error{Errc::kConfig, "console assets: more than " +
                                      std::to_string(limits.max_total_bytes) + " bytes in " + root};
    a.content_type = content_type_for(relative);
    a.cache_control = cache_control_for(relative);
    a.etag = etag_of(a.body);
    assets.files_.emplace(std::move(relative), std::move(a));
  }
  if (!assets.files_.count("index.html"))
    return Error{Errc::kConfig, "console assets: no index.html in " + root +
                                    " (run deploy/build-console.sh)"};
  return assets;
}

Result<AssetAnswer> StaticAssets::find(std::string_view path,
                                       std::string_view if_none_match) const {
  auto relative = asset_relative_path(path);
  if (!relative) return relative.error();
  const auto it = files_.find(*relative);
  if (it == files_.end()) return Error{Errc::kNotFound, "no such console file"};
  AssetAnswer answer;
  answer.asset = &it->second;
  answer.not_modified = matches_etag(if_none_match, it->second.etag);
  if (!answer.not_modified) answer.headers.emplace_back("Content-Type", it->second.content_type);
  answer.headers.emplace_back("Cache-Control", it->second.cache_control);
  answer.headers.emplace_back("ETag", it->second.etag);
  answer.headers.emplace_back("X-Content-Type-Options", "nosniff");
  answer.headers.emplace_back("X-Frame-Options", "DENY");
  answer.headers.emplace_back("Referrer-Policy", "no-referrer");
  answer.headers.emplace_back(
      "Content-Security-Policy",
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  return answer;
}

}  // namespace sektorbro::console
