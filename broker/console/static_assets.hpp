// StaticAssets: the operators' web console as built files (deploy/build-console.sh writes them
// to build/console/), held in memory and answered by request path. Pure apart from load(),
// which reads the folder once at start-up: a request never touches the disk, and only a file
// that was in the folder can be answered, so no request path can reach outside it.
//
// Thread rules: load() on any thread; find() is const and may be called from any thread.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/core/result.hpp"

namespace sektorbro::console {

using Header = std::pair<std::string, std::string>;

struct Asset {
  std::string body;
  std::string content_type;
  std::string cache_control;  // "no-cache" for pages; a year, immutable for hashed assets
  std::string etag;           // strong, from the content
};

// What to answer: the asset, or 304 when the client's If-None-Match names its ETag.
struct AssetAnswer {
  const Asset* asset = nullptr;
  bool not_modified = false;
  // Headers to send with either answer: Content-Type (200 only), Cache-Control, ETag and the
  // security headers the console relies on (same-origin scripts only, no framing, no sniffing).
  std::vector<Header> headers;
};

// Limits on what load() takes in.
struct AssetLimits {
  std::size_t max_files = 2000;
  std::size_t max_total_bytes = 64 * 1024 * 1024;
};

class StaticAssets {
 public:
  // Reads every regular file under `root` (symbolic links and hidden files are skipped).
  // Errors: kConfig when `root` is not a readable folder, has no index.html or exceeds `limits`.
  static Result<StaticAssets> load(const std::string& root, AssetLimits limits = {});

  // `path` is the request target after the mount point ("/console/assets/x.js" → "assets/x.js",
  // query included or not). "" and a path ending in '/' mean that folder's index.html.
  // Errors: kInvalid (answer 400) for a path that is malformed or tries to leave the folder
  // ("..", "%2e%2e", backslashes, NUL, control characters, bad %-escapes); kNotFound (404).
  Result<AssetAnswer> find(std::string_view path, std::string_view if_none_match = {}) const;

  std::size_t size() const { return files_.size(); }

 private:
  std::map<std::string, Asset, std::less<>> files_;
};

// The relative file name a request path names, checked: %-decoded, no empty, "." or ".."
// segments, no hidden segments (".git"), no backslash, NUL or control characters.
// "" or a trailing '/' → "<folder>/index.html". Errors: kInvalid.
Result<std::string> asset_relative_path(std::string_view path);

// Content-Type for a file name, by extension ("application/octet-stream" when unknown).
std::string content_type_for(std::string_view file_name);

// Cache-Control for a file: build output under "assets/" carries a content hash in its name and
// is cached for a year as immutable; everything else is revalidated each time.
std::string cache_control_for(std::string_view relative_path);

}  // namespace sektorbro::console
