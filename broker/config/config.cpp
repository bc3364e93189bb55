#include "broker/config/config.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "broker/core/identifiers.hpp"
#include "broker/delivery/lease_rules.hpp"
#include "broker/message/forms.hpp"

namespace sektorbro {
namespace {

using json = nlohmann::json;

// Upper bounds keep every duration far from overflow and catch a misplaced digit.
constexpr std::int64_t kMaxTimeoutMs = 60LL * 60 * 1000;  // 1 hour
constexpr std::int64_t kMaxConcurrency = 1024;
constexpr std::int64_t kMaxAttempts = 1000;
constexpr std::int64_t kMaxAgeSeconds = 366LL * 24 * 60 * 60;      // 1 year
constexpr std::int64_t kMaxBackoffMs = 7LL * 24 * 60 * 60 * 1000;  // 1 week
constexpr std::int64_t kMaxGroupCommit = 100'000;
constexpr std::int64_t kMaxBodyBytes = 1024LL * 1024 * 1024;           // 1 GiB
constexpr std::int64_t kMaxBufferedBytes = 64LL * 1024 * 1024 * 1024;  // 64 GiB
constexpr std::size_t kMaxSorDigits = 18;
constexpr std::size_t kMaxEndpointIdLength = 64;
constexpr std::size_t kMaxConfigBytes = 16 * 1024 * 1024;
constexpr std::int64_t kMaxConnectionsPerClient = 100'000;
constexpr std::int64_t kMaxPipelinedRequests = 1'024;
constexpr std::size_t kMaxCommonNameLength = 64;  // X.509 ub-common-name
constexpr std::size_t kSha256HexDigits = 64;

// MedCom IdentifierCode values (domain.md §2).
constexpr std::string_view kIdentifierCodes[] = {
    "sygehusafdelingsnummer", "ydernummer", "lokationsnummer", "kommunenummer", "amt", "sorkode"};

Error config_error(const std::string& path, const std::string& what) {
  return make_error(Errc::kConfig,
                    (path.empty() ? std::string("configuration") : path) + ": " + what);
}

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// ---- Reading the document: syntax errors with a position, and repeated keys ----

// nlohmann keeps the last of two equal keys without a word; a repeated key is almost always a
// paste error, so it is found while parsing (the parse callback sees every key).
class RepeatedKeyFinder {
 public:
  bool on_event(json::parse_event_t event, const json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start: {
        std::string path = frames_.empty() ? std::string() : element_path();
        Frame frame;
        frame.array = event == json::parse_event_t::array_start;
        frame.path = std::move(path);
        frames_.push_back(std::move(frame));
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
      case json::parse_event_t::key:
        if (!frames_.empty() && parsed.is_string()) {
          Frame& top = frames_.back();
          top.key = parsed.get<std::string>();
          if (!top.keys.insert(top.key).second && !first_repeat_)
            first_repeat_ = join(top.path, top.key);
        }
        break;
      case json::parse_event_t::value:
        if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
        break;
    }
    return true;
  }

  const std::optional<std::string>& first_repeat() const { return first_repeat_; }

 private:
  struct Frame {
    bool array = false;
    std::string path;
    std::size_t index = 0;
    std::string key;
    std::set<std::string> keys;
  };

  std::string element_path() {
    Frame& top = frames_.back();
    if (top.array) return top.path + "[" + std::to_string(top.index++) + "]";
    return join(top.path, top.key);
  }

  std::vector<Frame> frames_;
  std::optional<std::string> first_repeat_;
};

// A SAX handler that only records the parser's message, so a syntax error can name its line
// and column without exceptions.
class SyntaxErrorText final : public nlohmann::json_sax<json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    text = ex.what();
    // "[json.exception.parse_error.101] parse error at line 3, column 5: ..." → from "parse".
    if (const auto pos = text.find("] "); pos != std::string::npos) text.erase(0, pos + 2);
    return false;
  }
  std::string text = "syntax error";
};

// ---- Typed readers. Each names the exact key on failure. ----

Result<void> check_object(const json& v, const std::string& path) {
  if (!v.is_object()) return config_error(path, "must be an object");
  return {};
}

// Every key of `object` must be one of `known`: a typo must not pass silently.
Result<void> check_keys(const json& object, const std::string& path,
                        std::initializer_list<std::string_view> known) {
  for (const auto& item : object.items()) {
    bool found = false;
    for (std::string_view k : known) found = found || item.key() == k;
    if (found) continue;
    std::string expected;
    for (std::string_view k : known) expected += (expected.empty() ? "" : ", ") + std::string(k);
    return config_error(join(path, item.key()), "unknown key (expected one of " + expected + ")");
  }
  return {};
}

Result<std::string> read_string(const json& v, const std::string& path) {
  if (!v.is_string()) return config_error(path, "must be a string");
  return v.get<std::string>();
}

Result<std::string> read_nonempty_string(const json& v, const std::string& path) {
  auto s = read_string(v, path);
  if (s.ok() && s->empty()) return config_error(path, "must not be empty");
  return s;
}

Result<bool> read_bool(const json& v, const std::string& path) {
  if (!v.is_boolean()) return config_error(path, "must be true or false");
  return v.get<bool>();
}

// A path to a file that must exist and be readable now: TLS material is checked at start-up,
// not at the first connection.
Result<std::string> read_readable_file(const json& v, const std::string& path) {
  auto file = read_nonempty_string(v, path);
  if (!file) return file;
  std::error_code ec;
  if (std::filesystem::is_directory(*file, ec))
    return config_error(path, "cannot read " + in_quotes(*file) + ": is a directory");
  std::ifstream in(*file, std::ios::binary);
  if (!in) {
    return config_error(path, "cannot read " + in_quotes(*file) + ": " + std::strerror(errno));
  }
  return file;
}

// A SHA-256 in hex, as `openssl x509 -fingerprint -sha256` prints it ("AB:CD:…") or as plain
// digits; returned as 64 lowercase digits.
Result<std::string> read_sha256_hex(const json& v, const std::string& path) {
  auto text = read_string(v, path);
  if (!text) return text;
  std::string digits;
  for (char c : *text) {
    if (c == ':') continue;
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return config_error(path, "must be a SHA-256 in hex (64 digits, colons allowed)");
    digits.push_back(c);
  }
  if (digits.size() != kSha256HexDigits)
    return config_error(path, "must be a SHA-256 in hex (64 digits, colons allowed)");
  return digits;
}

Result<std::string> read_common_name(const json& v, const std::string& path) {
  auto cn = read_nonempty_string(v, path);
  if (!cn) return cn;
  if (cn->size() > kMaxCommonNameLength) {
    return config_error(path, "must be at most " + std::to_string(kMaxCommonNameLength) +
                                  " bytes (a certificate's CN cannot be longer)");
  }
  for (unsigned char c : *cn)
    if (c < ' ' || c == 0x7F) return config_error(path, "must not contain control characters");
  return cn;
}

bool is_loopback(const std::string& address) {
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;  // 127.0.0.0/8
  in6_addr v6{};
  return inet_pton(AF_INET6, address.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

Result<std::int64_t> read_integer(const json& v, const std::string& path, std::int64_t lo,
                                  std::int64_t hi) {
  if (!v.is_number_integer()) return config_error(path, "must be an integer");
  const bool in_range = v.is_number_unsigned()
                            ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(hi) &&
                                  static_cast<std::int64_t>(v.get<std::uint64_t>()) >= lo
                            : v.get<std::int64_t>() >= lo && v.get<std::int64_t>() <= hi;
  if (!in_range) {
    return config_error(path, "must be between " + std::to_string(lo) + " and " +
                                  std::to_string(hi) + " (got " + v.dump() + ")");
  }
  return v.is_number_unsigned() ? static_cast<std::int64_t>(v.get<std::uint64_t>())
                                : v.get<std::int64_t>();
}

Result<std::string> read_gln(const json& v, const std::string& path) {
  auto gln = read_string(v, path);
  if (!gln.ok()) return gln;
  if (gln->size() != 13 || !all_digits(*gln)) return config_error(path, "must be 13 digits");
  if (!is_valid_gln(*gln)) {
    return config_error(
        path, "check digit is wrong (expected " + gln->substr(0, 12) + gln_check_digit(*gln) + ")");
  }
  return gln;
}

Result<std::string> read_sor(const json& v, const std::string& path) {
  auto sor = read_string(v, path);
  if (!sor.ok()) return sor;
  if (sor->empty() || sor->size() > kMaxSorDigits || !all_digits(*sor)) {
    return config_error(path,
                        "must be a SOR code of 1 to " + std::to_string(kMaxSorDigits) + " digits");
  }
  return sor;
}

const json* find(const json& object, std::string_view key) {
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// Assigns `read(value)` to `out` when `key` is present; leaves the default otherwise.
template <typename T, typename Read>
Result<void> optional_field(const json& object, const std::string& path, std::string_view key,
                            T& out, Read read) {
  const json* v = find(object, key);
  if (v == nullptr) return {};
  auto r = read(*v, join(path, key));
  if (!r.ok()) return r.error();
  out = static_cast<T>(*r);
  return {};
}

template <typename T, typename Read>
Result<void> required_field(const json& object, const std::string& path, std::string_view key,
                            T& out, Read read) {
  if (find(object, key) == nullptr) return config_error(join(path, key), "is required");
  return optional_field(object, path, key, out, read);
}

auto integer_in(std::int64_t lo, std::int64_t hi) {
  return [lo, hi](const json& v, const std::string& path) { return read_integer(v, path, lo, hi); };
}

// ---- Sections ----

Result<void> parse_listen(const json& v, const std::string& path, ListenConfig& out) {
  if (auto r = check_object(v, path); !r) return r;
  if (auto r = check_keys(v, path, {"address", "port", "allow_plain_http"}); !r) return r;
  if (auto r = optional_field(v, path, "allow_plain_http", out.allow_plain_http, read_bool); !r)
    return r;
  if (auto r = optional_field(v, path, "address", out.address, read_string); !r) return r;
  unsigned char buffer[sizeof(in6_addr)];
  if (inet_pton(AF_INET, out.address.c_str(), buffer) != 1 &&
      inet_pton(AF_INET6, out.address.c_str(), buffer) != 1) {
    return config_error(join(path, "address"),
                        "must be an IPv4 or IPv6 address (got " + in_quotes(out.address) + ")");
  }
  return optional_field(v, path, "port", out.port, integer_in(0, 65535));
}

Result<void> parse_store(const json& v, const std::string& path, StoreConfig& out) {
  if (auto r = check_object(v, path); !r) return r;
  if (auto r = check_keys(v, path, {"kind", "path", "conninfo", "group_commit_max"}); !r) return r;
  if (const json* k = find(v, "kind")) {
    auto text = read_string(*k, join(path, "kind"));
    if (!text) return text.error();
    if (*text == "sqlite") {
      out.kind = StoreConfig::Kind::kSqlite;
    } else if (*text == "postgres") {
      out.kind = StoreConfig::Kind::kPostgres;
    } else {
      return config_error(join(path, "kind"),
                          "must be \"sqlite\" or \"postgres\" (got " + in_quotes(*text) + ")");
    }
  }
  const bool postgres = out.kind == StoreConfig::Kind::kPostgres;
  // Each kind takes only its own keys, so a half-edited store section is refused rather than
  // read as the other kind. The conninfo's value is never quoted back: it may hold a password.
  if (postgres && find(v, "path"))
    return config_error(join(path, "path"),
                        "is for kind \"sqlite\"; a PostgreSQL store takes "
                        "\"conninfo\"");
  if (!postgres && find(v, "conninfo"))
    return config_error(join(path, "conninfo"),
                        "is for kind \"postgres\" (set \"kind\": "
                        "\"postgres\")");
  if (auto r = optional_field(v, path, "path", out.path, read_nonempty_string); !r) return r;
  if (const json* c = find(v, "conninfo")) {
    if (!c->is_string() || c->get<std::string>().empty())
      return config_error(join(path, "conninfo"), "must be a non-empty libpq connection string");
    out.conninfo = c->get<std::string>();
  }
  if (postgres && out.conninfo.empty())
    return config_error(join(path, "conninfo"),
                        "is required when kind is \"postgres\" (a libpq connection string, "
                        "e.g. \"host=db1 dbname=sektorbro user=sektorbro\")");
  return optional_field(v, path, "group_commit_max", out.group_commit_max,
                        integer_in(1, kMaxGroupCommit));
}

Result<void> parse_retry(const json& v, const std::string& path, RetryPolicy& out) {
  if (auto r = check_object(v, path); !r) return r;
  if (auto r = check_keys(
          v, path,
          {"max_attempts", "max_age_seconds", "initial_backoff_ms", "max_backoff_ms", "jitter"});
      !r)
    return r;
  if (auto r =
          optional_field(v, path, "max_attempts", out.max_attempts, integer_in(1, kMaxAttempts));
      !r)
    return r;
  std::int64_t max_age_s = std::chrono::duration_cast<std::chrono::seconds>(out.max_age).count();
  if (auto r = optional_field(v, path, "max_age_seconds", max_age_s, integer_in(1, kMaxAgeSeconds));
      !r)
    return r;
  out.max_age = std::chrono::seconds{max_age_s};
  std::int64_t initial_ms = out.initial_backoff.count();
  if (auto r =
          optional_field(v, path, "initial_backoff_ms", initial_ms, integer_in(1, kMaxBackoffMs));
      !r)
    return r;
  out.initial_backoff = Duration{initial_ms};
  std::int64_t max_ms = out.max_backoff.count();
  if (auto r = optional_field(v, path, "max_backoff_ms", max_ms, integer_in(1, kMaxBackoffMs)); !r)
    return r;
  if (max_ms < initial_ms) {
    return config_error(join(path, "max_backoff_ms"), "must not be below initial_backoff_ms (" +
                                                          std::to_string(initial_ms) + ")");
  }
  out.max_backoff = Duration{max_ms};
  return optional_field(
      v, path, "jitter", out.jitter, [](const json& j, const std::string& p) -> Result<double> {
        if (!j.is_number()) return config_error(p, "must be a number");
        const double d = j.get<double>();
        if (!(d >= 0.0 && d < 1.0)) {
          return config_error(p, "must be at least 0 and below 1 (got " + j.dump() + ")");
        }
        return d;
      });
}

Result<void> parse_delivery(const json& v, const std::string& path, DeliveryConfig& out) {
  if (auto r = check_object(v, path); !r) return r;
  if (auto r = check_keys(v, path,
                          {"timeout_ms", "per_endpoint_concurrency", "retry",
                           "receipt_timeout_seconds", "max_resends", "mailbox_lease_seconds"});
      !r)
    return r;
  // Mailbox pull (issue 4): how long a fetched message stays with its fetcher before it is
  // offered again unconfirmed. At least a second; at most a day, so that a message a client
  // fetched and lost is not hidden from the next fetch for longer than that.
  std::int64_t mailbox_lease_s =
      std::chrono::duration_cast<std::chrono::seconds>(out.mailbox_lease).count();
  if (auto r = optional_field(v, path, "mailbox_lease_seconds", mailbox_lease_s,
                              integer_in(1, 24 * 3600));
      !r)
    return r;
  out.mailbox_lease = std::chrono::seconds{mailbox_lease_s};
  std::int64_t receipt_timeout_s =
      std::chrono::duration_cast<std::chrono::seconds>(out.receipt_timeout).count();
  if (auto r = optional_field(v, path, "receipt_timeout_seconds", receipt_timeout_s,
                              integer_in(1, 7 * 24 * 3600));
      !r)
    return r;
  out.receipt_timeout = std::chrono::seconds{receipt_timeout_s};
  if (auto r = optional_field(v, path, "max_resends", out.max_resends, integer_in(0, 10)); !r)
    return r;
  std::int64_t timeout_ms = out.timeout.count();
  if (auto r = optional_field(v, path, "timeout_ms", timeout_ms, integer_in(1, kMaxTimeoutMs)); !r)
    return r;
  out.timeout = Duration{timeout_ms};
  if (auto r = optional_field(v, path, "per_endpoint_concurrency", out.per_endpoint_concurrency,
                              integer_in(1, kMaxConcurrency));
      !r)
    return r;
  if (const json* retry = find(v, "retry"))
    return parse_retry(*retry, join(path, "retry"), out.retry);
  return {};
}

Result<void> parse_limits(const json& v, const std::string& path, LimitsConfig& out) {
  if (auto r = check_object(v, path); !r) return r;
  if (auto r = check_keys(v, path,
                          {"max_body_bytes", "max_connections_per_client", "max_buffered_bytes",
                           "max_pipelined_requests"});
      !r)
    return r;
  if (auto r = optional_field(v, path, "max_connections_per_client", out.max_connections_per_client,
                              integer_in(1, kMaxConnectionsPerClient));
      !r)
    return r;
  if (auto r = optional_field(v, path, "max_body_bytes", out.max_body_bytes,
                              integer_in(1, kMaxBodyBytes));
      !r)
    return r;
  if (auto r = optional_field(v, path, "max_buffered_bytes", out.max_buffered_bytes,
                              integer_in(1, kMaxBufferedBytes));
      !r)
    return r;
  if (auto r = optional_field(v, path, "max_pipelined_requests", out.max_pipelined_requests,
                              integer_in(1, kMaxPipelinedRequests));
      !r)
    return r;
  // Below one full body, a request of the largest allowed size could never be taken.
  if (out.max_buffered_bytes < out.max_body_bytes) {
    return config_error(path + ".max_buffered_bytes", "must be at least max_body_bytes (" +
                                                          std::to_string(out.max_body_bytes) + ")");
  }
  return {};
}

// gln, sor, name, identifier_code, identifier: shared by the identity and every endpoint.
Result<void> parse_party_fields(const json& v, const std::string& path, Party& out) {
  if (auto r = required_field(v, path, "gln", out.gln, read_gln); !r) return r;
  if (auto r = required_field(v, path, "sor", out.sor, read_sor); !r) return r;
  if (auto r = optional_field(v, path, "name", out.name, read_string); !r) return r;
  if (auto r = optional_field(v, path, "identifier_code", out.identifier_code, read_string); !r)
    return r;
  if (auto r = optional_field(v, path, "identifier", out.identifier, read_nonempty_string); !r)
    return r;
  if (!out.identifier_code.empty() || find(v, "identifier_code") != nullptr) {
    bool known = false;
    std::string expected;
    for (std::string_view c : kIdentifierCodes) {
      known = known || out.identifier_code == c;
      expected += (expected.empty() ? "" : ", ") + std::string(c);
    }
    if (!known) {
      return config_error(join(path, "identifier_code"), "must be one of " + expected + " (got " +
                                                             in_quotes(out.identifier_code) + ")");
    }
    if (out.identifier.empty()) {
      return config_error(join(path, "identifier"), "is required with identifier_code");
    }
  } else if (!out.identifier.empty()) {
    return config_error(join(path, "identifier_code"), "is required with identifier");
  }
  return {};
}

Result<void> parse_identity(const json& v, const std::string& path, Party& out) {
  if (auto r = check_object(v, path); !r) return r;
  if (auto r = check_keys(v, path, {"gln", "sor", "name", "identifier_code", "identifier"}); !r)
    return r;
  return parse_party_fields(v, path, out);
}

Result<std::string> read_endpoint_id(const json& v, const std::string& path) {
  auto id = read_string(v, path);
  if (!id.ok()) return id;
  bool ok = !id->empty() && id->size() <= kMaxEndpointIdLength;
  for (char c : *id) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    return config_error(path, "must be 1 to " + std::to_string(kMaxEndpointIdLength) +
                                  " characters of A-Z, a-z, 0-9, '.', '_', '-'");
  }
  return id;
}

Result<EndpointKind> read_kind(const json& v, const std::string& path) {
  auto s = read_string(v, path);
  if (!s.ok()) return s.error();
  if (*s == "jobcenter") return EndpointKind::kJobcenter;
  if (*s == "psychiatry") return EndpointKind::kPsychiatry;
  return config_error(path, "must be jobcenter or psychiatry (got " + in_quotes(*s) + ")");
}

Result<std::string> read_url(const json& v, const std::string& path) {
  auto url = read_string(v, path);
  if (!url.ok()) return url;
  std::string_view rest;
  if (url->starts_with("http://")) {
    rest = std::string_view(*url).substr(7);
  } else if (url->starts_with("https://")) {
    rest = std::string_view(*url).substr(8);
  } else if (*url == "mailbox:") {
    // Mailbox pull (issue 4): the endpoint fetches its messages and confirms each.
    return url;
  } else if (url->starts_with("file:///")) {
    // File drop (issue 4): deliveries are written into this folder, which must exist.
    const std::string folder = url->substr(7);
    std::error_code ec;
    if (folder.find("/../") != std::string::npos || !std::filesystem::is_directory(folder, ec))
      return config_error(path, "names a folder that does not exist: " + folder);
    return url;
  } else {
    return config_error(path, "must start with http://, https:// or file:///, or be mailbox:");
  }
  if (rest.empty() || rest.front() == '/' || rest.front() == ':')
    return config_error(path, "has no host");
  for (unsigned char c : *url) {
    if (c <= ' ' || c == 0x7F) return config_error(path, "must not contain spaces or controls");
  }
  return url;
}

Result<std::vector<LetterType>> read_accepts(const json& v, const std::string& path) {
  if (!v.is_array()) return config_error(path, "must be an array of letter types");
  std::vector<LetterType> types;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    auto name = read_string(v[i], item_path);
    if (!name.ok()) return name.error();
    const auto type = parse_letter_type(*name);
    if (!type) {
      std::string expected;
      for (LetterType t : kAllLetterTypes)
        expected += (expected.empty() ? "" : ", ") + std::string(to_string(t));
      return config_error(item_path, "unknown letter type " + in_quotes(*name) +
                                         " (expected one of " + expected + ")");
    }
    if (std::find(types.begin(), types.end(), *type) != types.end())
      return config_error(item_path, in_quotes(*name) + " is listed twice");
    types.push_back(*type);
  }
  return types;
}

Result<Endpoint> parse_endpoint(const json& v, const std::string& path) {
  if (auto r = check_object(v, path); !r) return r.error();
  if (auto r = check_keys(
          v, path,
          {"id", "kind", "name", "gln", "sor", "identifier_code", "identifier", "url", "accepts",
           "dialect", "client_certificate_fingerprint", "client_certificate_cn", "inbox",
           "receipt_timeout_seconds", "sbdh_payload", "fhir_format"});
      !r)
    return r.error();
  Endpoint e;
  if (const json* dialect = find(v, "dialect")) {
    auto text = read_string(*dialect, join(path, "dialect"));
    if (!text) return text.error();
    const auto parsed = parse_dialect(*text);
    if (!parsed)
      return config_error(join(path, "dialect"),
                          "must be \"native\", \"oioxml\", \"sbdh\" or \"fhir\"");
    e.dialect = *parsed;
  }
  if (const json* payload = find(v, "sbdh_payload")) {
    // Issue 9: what an SBDH endpoint wants inside the EHMI envelope.
    auto text = read_string(*payload, join(path, "sbdh_payload"));
    if (!text) return text.error();
    const auto parsed = parse_sbdh_payload(*text);
    if (!parsed)
      return config_error(join(path, "sbdh_payload"), "must be \"native\", \"oioxml\" or \"fhir\"");
    if (e.dialect != Dialect::kSbdh)
      return config_error(join(path, "sbdh_payload"),
                          "is only for an endpoint whose dialect is \"sbdh\"");
    e.sbdh_payload = *parsed;
  }
  if (const json* format = find(v, "fhir_format")) {
    // Issue 9: a FHIR receiver that wants its deliveries as FHIR JSON.
    auto text = read_string(*format, join(path, "fhir_format"));
    if (!text) return text.error();
    if (*text != "xml" && *text != "json")
      return config_error(join(path, "fhir_format"), "must be \"xml\" or \"json\"");
    if (e.dialect != Dialect::kFhir)
      return config_error(join(path, "fhir_format"),
                          "is only for an endpoint whose dialect is \"fhir\"");
    e.fhir_json = *text == "json";
  }
  if (auto r = required_field(v, path, "id", e.id, read_endpoint_id); !r) return r.error();
  if (auto r = required_field(v, path, "kind", e.kind, read_kind); !r) return r.error();
  if (auto r = parse_party_fields(v, path, e.party); !r) return r.error();
  if (auto r = required_field(v, path, "url", e.url, read_url); !r) return r.error();
  if (auto r = required_field(v, path, "accepts", e.accepts, read_accepts); !r) return r.error();
  if (const json* timeout = find(v, "receipt_timeout_seconds")) {
    auto seconds = read_integer(*timeout, join(path, "receipt_timeout_seconds"), 1, 7 * 24 * 3600);
    if (!seconds) return seconds.error();
    e.receipt_timeout = std::chrono::seconds{*seconds};
  }
  if (const json* inbox = find(v, "inbox")) {
    // File drop (issue 4): the endpoint's files are taken from this folder.
    auto folder = read_nonempty_string(*inbox, join(path, "inbox"));
    if (!folder) return folder.error();
    std::error_code ec;
    if (folder->front() != '/' || !std::filesystem::is_directory(*folder, ec))
      return config_error(join(path, "inbox"),
                          "must be an existing folder given by an absolute "
                          "path (got " +
                              in_quotes(*folder) + ")");
    e.inbox = *folder;
  }
  return e;
}

// "client_certificate_fingerprint" and "client_certificate_cn" of an endpoint or operator.
Result<CertificateIdentity> parse_certificate_identity(const json& v, const std::string& path) {
  CertificateIdentity id;
  if (auto r = optional_field(v, path, "client_certificate_fingerprint", id.fingerprint_sha256,
                              read_sha256_hex);
      !r)
    return r.error();
  if (auto r = optional_field(v, path, "client_certificate_cn", id.subject_cn, read_common_name);
      !r)
    return r.error();
  return id;
}

// The key that names an identity in error texts: the fingerprint if set, else the CN.
std::string identity_key(const std::string& path, const CertificateIdentity& id) {
  return join(path, id.fingerprint_sha256.empty() ? "client_certificate_cn"
                                                  : "client_certificate_fingerprint");
}

// Two identities that one certificate could satisfy both: the same fingerprint, or the same CN
// where neither pins a fingerprint that tells them apart.
bool overlap(const CertificateIdentity& a, const CertificateIdentity& b) {
  if (!a.fingerprint_sha256.empty() && !b.fingerprint_sha256.empty())
    return a.fingerprint_sha256 == b.fingerprint_sha256 &&
           (a.subject_cn.empty() || b.subject_cn.empty() || a.subject_cn == b.subject_cn);
  return !a.subject_cn.empty() && a.subject_cn == b.subject_cn;
}

Result<std::vector<Endpoint>> parse_endpoints(const json& v, const std::string& path,
                                              const Party& identity,
                                              std::vector<EndpointCertificate>& certificates) {
  if (!v.is_array()) return config_error(path, "must be an array");
  if (v.empty()) return config_error(path, "at least one endpoint is required");
  std::vector<Endpoint> endpoints;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    auto e = parse_endpoint(v[i], item_path);
    if (!e.ok()) return e.error();
    for (std::size_t j = 0; j < endpoints.size(); ++j) {
      const std::string other = path + "[" + std::to_string(j) + "]";
      if (endpoints[j].id == e->id)
        return config_error(item_path + ".id", in_quotes(e->id) + " is already used by " + other);
      if (endpoints[j].party.gln == e->party.gln) {
        return config_error(item_path + ".gln", e->party.gln + " is already used by " + other +
                                                    " (" + endpoints[j].id + ")");
      }
    }
    // Receipts the broker writes carry identity.gln as sender; an endpoint with the same GLN
    // would make them ambiguous.
    if (e->party.gln == identity.gln)
      return config_error(item_path + ".gln", e->party.gln + " is the broker's own identity.gln");
    auto certificate = parse_certificate_identity(v[i], item_path);
    if (!certificate) return certificate.error();
    if (!certificate->empty()) {
      // One certificate must identify one endpoint, or a sender could pass for another.
      for (const EndpointCertificate& other : certificates) {
        if (overlap(other.certificate, *certificate)) {
          return config_error(
              identity_key(item_path, *certificate),
              "the same certificate would also identify endpoint " + in_quotes(other.endpoint_id));
        }
      }
      certificates.push_back(EndpointCertificate{e->id, std::move(*certificate)});
    }
    endpoints.push_back(std::move(*e));
  }
  return endpoints;
}

// "forms": {"LÆ125": 14, "LÆ165": "none", "LÆ285": {"set_in_request": 8}} — each entry
// replaces the default for that form (domain.md §5); forms not named keep their default.
Result<void> parse_forms(const json& v, const std::string& path, DeadlinePolicy& out) {
  if (auto r = check_object(v, path); !r) return r;
  for (const auto& item : v.items()) {
    const std::string item_path = join(path, item.key());
    if (!find_form(item.key()))
      return config_error(item_path, "unknown form (expected a code such as \"LÆ125\")");
    FormDeadline rule;
    const json& value = item.value();
    if (value.is_string() && value.get<std::string>() == "none") {
      rule.rule = FormDeadline::Rule::kNone;
    } else if (value.is_number_integer()) {
      auto days = read_integer(value, item_path, 1, 366);
      if (!days) return days.error();
      rule.rule = FormDeadline::Rule::kCalendarDays;
      rule.days = static_cast<int>(*days);
    } else if (value.is_object()) {
      if (auto r = check_keys(value, item_path, {"set_in_request"}); !r) return r;
      rule.rule = FormDeadline::Rule::kSetInRequest;
      if (auto r =
              required_field(value, item_path, "set_in_request", rule.days, integer_in(0, 366));
          !r)
        return r;
    } else {
      return config_error(
          item_path, "must be a number of calendar days, \"none\", or {\"set_in_request\": N}");
    }
    out.forms[item.key()] = rule;
  }
  return {};
}

Result<Date> read_date(const json& v, const std::string& path) {
  auto text = read_string(v, path);
  if (!text) return text.error();
  auto date = parse_date(*text);
  if (!date) return config_error(path, "must be a date YYYY-MM-DD (got " + in_quotes(*text) + ")");
  return *date;
}

Result<void> parse_reminders(const json& v, const std::string& path, ReminderSchedule& out) {
  if (auto r = check_object(v, path); !r) return r;
  if (auto r = check_keys(
          v, path,
          {"offsets_working_days", "repeat_every_working_days", "max_reminders", "send_at"});
      !r)
    return r;
  if (const json* offsets = find(v, "offsets_working_days")) {
    const std::string p = join(path, "offsets_working_days");
    if (!offsets->is_array()) return config_error(p, "must be an array of integers");
    out.offsets_working_days.clear();
    for (std::size_t i = 0; i < offsets->size(); ++i) {
      auto n = read_integer((*offsets)[i], p + "[" + std::to_string(i) + "]", -60, 60);
      if (!n) return n.error();
      out.offsets_working_days.push_back(static_cast<int>(*n));
    }
  }
  if (auto r = optional_field(v, path, "repeat_every_working_days", out.repeat_every_working_days,
                              integer_in(0, 60));
      !r)
    return r;
  if (auto r = optional_field(v, path, "max_reminders", out.max_reminders, integer_in(0, 50)); !r)
    return r;
  if (const json* at = find(v, "send_at")) {
    const std::string p = join(path, "send_at");
    auto text = read_string(*at, p);
    if (!text) return text.error();
    const std::string& t = *text;
    if (t.size() != 5 || t[2] != ':' || !all_digits(t.substr(0, 2)) || !all_digits(t.substr(3)) ||
        std::stoi(t.substr(0, 2)) > 23 || std::stoi(t.substr(3)) > 59)
      return config_error(p, "must be a local time HH:MM (got " + in_quotes(t) + ")");
    out.send_at = std::chrono::minutes{std::stoi(t.substr(0, 2)) * 60 + std::stoi(t.substr(3))};
  }
  return {};
}

Result<void> parse_deadlines(const json& v, const std::string& path, DeadlinesConfig& out) {
  if (auto r = check_object(v, path); !r) return r;
  if (auto r = check_keys(v, path,
                          {"forms", "mentor_response_working_days", "reminders",
                           "extra_closing_days", "sweep_interval_ms"});
      !r)
    return r;
  if (const json* forms = find(v, "forms"))
    if (auto r = parse_forms(*forms, join(path, "forms"), out.policy); !r) return r;
  if (auto r = optional_field(v, path, "mentor_response_working_days",
                              out.policy.mentor_response_working_days, integer_in(0, 60));
      !r)
    return r;
  if (const json* reminders = find(v, "reminders"))
    if (auto r = parse_reminders(*reminders, join(path, "reminders"), out.policy.reminders); !r)
      return r;
  if (const json* days = find(v, "extra_closing_days")) {
    const std::string p = join(path, "extra_closing_days");
    if (!days->is_array()) return config_error(p, "must be an array of dates");
    for (std::size_t i = 0; i < days->size(); ++i) {
      auto d = read_date((*days)[i], p + "[" + std::to_string(i) + "]");
      if (!d) return d.error();
      out.policy.extra_closing_days.push_back(*d);
    }
  }
  std::int64_t sweep_ms = out.sweep_interval.count();
  if (auto r = optional_field(v, path, "sweep_interval_ms", sweep_ms, integer_in(10, 3'600'000));
      !r)
    return r;
  out.sweep_interval = Duration{sweep_ms};
  if (auto r = validate(out.policy); !r) return config_error(path, r.error().detail);
  return {};
}

Result<void> parse_clock(const json& v, const std::string& path, ClockConfig& out) {
  if (auto r = check_object(v, path); !r) return r;
  if (auto r = check_keys(v, path, {"mode", "start", "factor"}); !r) return r;
  if (const json* mode = find(v, "mode")) {
    auto text = read_string(*mode, join(path, "mode"));
    if (!text) return text.error();
    if (*text == "system") {
      out.mode = ClockConfig::Mode::kSystem;
    } else if (*text == "manual") {
      out.mode = ClockConfig::Mode::kManual;
    } else if (*text == "accelerated") {
      out.mode = ClockConfig::Mode::kAccelerated;
    } else {
      return config_error(join(path, "mode"),
                          "must be \"system\", \"manual\" (tests) or "
                          "\"accelerated\" (demo)");
    }
  }
  if (const json* start = find(v, "start")) {
    auto text = read_string(*start, join(path, "start"));
    if (!text) return text.error();
    out.start = parse_timestamp(*text);
    if (!out.start)
      return config_error(join(path, "start"),
                          "must be a date-time with a zone, e.g. "
                          "2026-11-20T08:00:00Z");
  }
  if (const json* factor = find(v, "factor")) {
    if (!factor->is_number() || factor->get<double>() < 1 || factor->get<double>() > 1e7)
      return config_error(join(path, "factor"), "must be a number from 1 to 10000000");
    out.factor = factor->get<double>();
  }
  return {};
}

Result<void> parse_tls(const json& v, const std::string& path, TlsConfig& out) {
  if (auto r = check_object(v, path); !r) return r;
  if (auto r =
          check_keys(v, path, {"certificate", "key", "client_ca", "require_client_certificate"});
      !r)
    return r;
  if (auto r = required_field(v, path, "certificate", out.certificate, read_readable_file); !r)
    return r;
  if (auto r = required_field(v, path, "key", out.key, read_readable_file); !r) return r;
  if (auto r = optional_field(v, path, "client_ca", out.client_ca, read_readable_file); !r)
    return r;
  if (auto r = optional_field(v, path, "require_client_certificate", out.require_client_certificate,
                              read_bool);
      !r)
    return r;
  if (out.require_client_certificate && out.client_ca.empty()) {
    return config_error(join(path, "client_ca"),
                        "is required while require_client_certificate is true");
  }
  return {};
}

Result<void> parse_outbound_tls(const json& v, const std::string& path, OutboundTlsConfig& out) {
  if (auto r = check_object(v, path); !r) return r;
  if (auto r = check_keys(v, path, {"ca", "certificate", "key"}); !r) return r;
  if (auto r = optional_field(v, path, "ca", out.ca, read_readable_file); !r) return r;
  if (auto r = optional_field(v, path, "certificate", out.certificate, read_readable_file); !r)
    return r;
  if (auto r = optional_field(v, path, "key", out.key, read_readable_file); !r) return r;
  if (out.certificate.empty() != out.key.empty()) {
    return config_error(join(path, out.key.empty() ? "key" : "certificate"),
                        out.key.empty() ? "is required with certificate" : "is required with key");
  }
  return {};
}

Result<OperatorRole> read_role(const json& v, const std::string& path) {
  auto s = read_string(v, path);
  if (!s) return s.error();
  if (*s == "read-only") return OperatorRole::kReadOnly;
  if (*s == "acting") return OperatorRole::kActing;
  return config_error(path, "must be \"read-only\" or \"acting\" (got " + in_quotes(*s) + ")");
}

Result<std::vector<OperatorConfig>> parse_operators(
    const json& v, const std::string& path, const std::vector<EndpointCertificate>& endpoints) {
  if (!v.is_array()) return config_error(path, "must be an array");
  std::vector<OperatorConfig> operators;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    const json& item = v[i];
    if (auto r = check_object(item, item_path); !r) return r.error();
    if (auto r = check_keys(item, item_path,
                            {"name", "role", "token_sha256", "client_certificate_fingerprint",
                             "client_certificate_cn"});
        !r)
      return r.error();
    OperatorConfig op;
    if (auto r = required_field(item, item_path, "name", op.name, read_nonempty_string); !r)
      return r.error();
    if (auto r = required_field(item, item_path, "role", op.role, read_role); !r) return r.error();
    if (auto r = optional_field(item, item_path, "token_sha256", op.token_sha256, read_sha256_hex);
        !r)
      return r.error();
    auto certificate = parse_certificate_identity(item, item_path);
    if (!certificate) return certificate.error();
    op.certificate = std::move(*certificate);
    if (op.token_sha256.empty() && op.certificate.empty()) {
      return config_error(item_path,
                          "needs token_sha256 or client_certificate_fingerprint/_cn to log in");
    }
    for (std::size_t j = 0; j < operators.size(); ++j) {
      const std::string other = path + "[" + std::to_string(j) + "]";
      if (operators[j].name == op.name)
        return config_error(join(item_path, "name"),
                            in_quotes(op.name) + " is already used by " + other);
      if (!op.token_sha256.empty() && operators[j].token_sha256 == op.token_sha256)
        return config_error(join(item_path, "token_sha256"), "is already used by " + other);
      if (!op.certificate.empty() && overlap(operators[j].certificate, op.certificate))
        return config_error(identity_key(item_path, op.certificate),
                            "the same certificate would also identify " + other);
    }
    // An endpoint's credentials never open the operators' API (issue 5).
    for (const EndpointCertificate& e : endpoints) {
      if (!op.certificate.empty() && overlap(e.certificate, op.certificate)) {
        return config_error(
            identity_key(item_path, op.certificate),
            "the same certificate would also identify endpoint " + in_quotes(e.endpoint_id));
      }
    }
    operators.push_back(std::move(op));
  }
  return operators;
}

// The host of an http:// URL (after any userinfo; brackets kept off an IPv6 literal), or
// nullopt when the authority has characters a client could read another way (a backslash).
std::optional<std::string> http_url_host(std::string_view url) {
  std::string_view authority = url.substr(7);  // after "http://"
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.find('\\') != std::string_view::npos) return std::nullopt;
  if (const auto at = authority.rfind('@'); at != std::string_view::npos)
    authority = authority.substr(at + 1);
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return std::string(authority.substr(1, close - 1));
  }
  return std::string(authority.substr(0, authority.find(':')));
}

// Whether a delivery to `url` stays on this machine: http:// to a loopback address or to
// "localhost" (RFC 6761 reserves the name for loopback).
bool delivers_to_loopback(std::string_view url) {
  const auto host = http_url_host(url);
  if (!host) return false;
  std::string lower;
  for (char c : *host) lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  return lower == "localhost" || is_loopback(lower);
}

// Rules across sections: how the broker listens, and what mutual TLS needs.
Result<void> check_transport_security(const BrokerConfig& config) {
  const ListenConfig& listen = config.listen;
  if (config.tls && listen.allow_plain_http)
    return config_error("listen.allow_plain_http", "cannot be combined with a tls section");
  if (!config.tls && !listen.allow_plain_http) {
    return config_error("tls",
                        "is required (plain HTTP only with listen.allow_plain_http: true, "
                        "on loopback, for the demo and tests)");
  }
  if (listen.allow_plain_http && !is_loopback(listen.address)) {
    return config_error("listen.allow_plain_http",
                        "plain HTTP is allowed on a loopback address only (listen.address is " +
                            in_quotes(listen.address) + ")");
  }
  // With TLS configured the broker is meant to run between machines: a plain http:// delivery
  // would leave this one unencrypted, so it is allowed to loopback only, like plain listening
  // (issue 12, item 2).
  if (config.tls) {
    for (std::size_t i = 0; i < config.endpoints.size(); ++i) {
      const std::string& url = config.endpoints[i].url;
      if (url.starts_with("http://") && !delivers_to_loopback(url)) {
        return config_error("endpoints[" + std::to_string(i) + "].url",
                            "plain http:// is allowed to a loopback host only while tls is "
                            "configured (the delivery would leave unencrypted); use https://");
      }
    }
  }
  const bool mutual_tls = config.tls && !config.tls->client_ca.empty();
  if (!mutual_tls) {
    for (std::size_t i = 0; i < config.endpoints.size(); ++i) {
      for (const EndpointCertificate& e : config.endpoint_certificates) {
        if (e.endpoint_id == config.endpoints[i].id) {
          return config_error(identity_key("endpoints[" + std::to_string(i) + "]", e.certificate),
                              "needs tls.client_ca (mutual TLS)");
        }
      }
    }
    for (std::size_t i = 0; i < config.operators.size(); ++i) {
      if (!config.operators[i].certificate.empty()) {
        return config_error(
            identity_key("operators[" + std::to_string(i) + "]", config.operators[i].certificate),
            "needs tls.client_ca (mutual TLS)");
      }
    }
  }
  return {};
}

// "log", "metrics" and "privacy" (issue 10).
Result<void> parse_operations(const json& doc, BrokerConfig& config) {
  if (const json* v = find(doc, "log")) {
    if (auto r = check_object(*v, "log"); !r) return r;
    if (auto r = check_keys(*v, "log", {"format", "level"}); !r) return r;
    if (const json* f = find(*v, "format")) {
      auto text = read_string(*f, "log.format");
      if (!text) return text.error();
      const auto format = parse_log_format(*text);
      if (!format) return config_error("log.format", "must be \"plain\" or \"json\"");
      config.log.format = *format;
    }
    if (const json* l = find(*v, "level")) {
      auto text = read_string(*l, "log.level");
      if (!text) return text.error();
      const auto level = parse_log_level(*text);
      if (!level)
        return config_error("log.level", "must be \"debug\", \"info\", \"warning\" or \"error\"");
      config.log.level = *level;
    }
  }
  if (const json* v = find(doc, "metrics")) {
    if (auto r = check_object(*v, "metrics"); !r) return r;
    if (auto r = check_keys(*v, "metrics", {"unauthenticated", "store_counts_interval_ms"}); !r)
      return r;
    if (const json* u = find(*v, "unauthenticated")) {
      auto flag = read_bool(*u, "metrics.unauthenticated");
      if (!flag) return flag.error();
      config.metrics.unauthenticated = *flag;
    }
    std::int64_t ms = config.metrics.store_counts_interval.count();
    if (auto r = optional_field(*v, "metrics", "store_counts_interval_ms", ms,
                                integer_in(1'000, 3'600'000));
        !r)
      return r;
    config.metrics.store_counts_interval = Duration{ms};
  }
  if (const json* v = find(doc, "privacy")) {
    if (auto r = check_object(*v, "privacy"); !r) return r;
    if (auto r = check_keys(*v, "privacy", {"cpr_index_key_file"}); !r) return r;
    if (const json* k = find(*v, "cpr_index_key_file")) {
      auto text = read_string(*k, "privacy.cpr_index_key_file");
      if (!text) return text.error();
      if (text->empty()) return config_error("privacy.cpr_index_key_file", "must not be empty");
      config.privacy.cpr_index_key_file = *text;
    }
  }
  return {};
}

// "audit" (issue 12, item 5).
Result<void> parse_audit(const json& v, const std::string& path, AuditConfig& out) {
  if (auto r = check_object(v, path); !r) return r;
  if (auto r = check_keys(v, path, {"key_file", "checkpoint_file", "checkpoint_interval_ms"}); !r)
    return r;
  for (const auto& [key, field] : {std::pair<const char*, std::string*>{"key_file", &out.key_file},
                                   {"checkpoint_file", &out.checkpoint_file}}) {
    if (const json* f = find(v, key)) {
      auto text = read_string(*f, join(path, key));
      if (!text) return text.error();
      if (text->empty()) return config_error(join(path, key), "must not be empty");
      *field = *text;
    }
  }
  std::int64_t ms = out.checkpoint_interval.count();
  if (auto r = optional_field(v, path, "checkpoint_interval_ms", ms, integer_in(10, 86'400'000));
      !r)
    return r;
  out.checkpoint_interval = Duration{ms};
  return {};
}

// "retention" (issue 11, item 4): days from 1 to 100 years; the minimal record outlives every
// body period.
Result<void> parse_retention(const json& v, const std::string& path, RetentionConfig& out) {
  if (auto r = check_object(v, path); !r) return r;
  if (auto r =
          check_keys(v, path, {"body_days", "record_days", "per_type", "interval_ms", "batch"});
      !r)
    return r;
  out.enabled = true;
  constexpr std::int64_t kMaxDays = 36'500;
  if (auto r = optional_field(v, path, "body_days", out.policy.body_days, integer_in(1, kMaxDays));
      !r)
    return r;
  if (auto r =
          optional_field(v, path, "record_days", out.policy.record_days, integer_in(1, kMaxDays));
      !r)
    return r;
  if (const json* types = find(v, "per_type")) {
    const std::string p = join(path, "per_type");
    if (auto r = check_object(*types, p); !r) return r;
    for (const auto& item : types->items()) {
      const std::string name = item.key();
      const auto type = parse_letter_type(name);
      if (!type) return config_error(join(p, name), "is not a letter type");
      auto days = integer_in(1, kMaxDays)(item.value(), join(p, name));
      if (!days.ok()) return days.error();
      out.policy.body_days_per_type[*type] = static_cast<int>(*days);
    }
  }
  int longest = out.policy.body_days;
  for (const auto& [type, d] : out.policy.body_days_per_type) longest = std::max(longest, d);
  if (out.policy.record_days < longest)
    return config_error(join(path, "record_days"),
                        "must be at least every body period (" + std::to_string(longest) +
                            " days): the minimal record outlives the body");
  std::int64_t ms = out.interval.count();
  if (auto r = optional_field(v, path, "interval_ms", ms, integer_in(10, 86'400'000)); !r) return r;
  out.interval = Duration{ms};
  if (auto r = optional_field(v, path, "batch", out.batch, integer_in(1, 10'000)); !r) return r;
  return {};
}

// "cluster" (issue 11, item 2): {"node": "<unique name>", "lease_ms": 30000}.
Result<void> parse_cluster(const json& v, const std::string& path, const DeliveryConfig& delivery,
                           ClusterConfig& out) {
  if (auto r = check_object(v, path); !r) return r;
  if (auto r = check_keys(v, path, {"node", "lease_ms"}); !r) return r;
  if (const json* n = find(v, "node")) {
    auto text = read_nonempty_string(*n, join(path, "node"));
    if (!text) return text.error();
    const bool plain = std::all_of(text->begin(), text->end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == '.' || c == ':';
    });
    if (!plain || text->size() > 100)
      return config_error(
          join(path, "node"),
          "must be 1-100 letters, digits, '-', '_', '.' or ':' (got " + in_quotes(*text) + ")");
    out.node = *text;
  }
  std::int64_t lease_ms = out.lease.count();
  if (auto r = optional_field(v, path, "lease_ms", lease_ms, integer_in(1000, 3'600'000)); !r)
    return r;
  out.lease = Duration{lease_ms};
  const Duration least = minimum_lease(delivery.timeout);
  if (out.lease < least)
    return config_error(join(path, "lease_ms"), "must be at least twice delivery.timeout_ms (" +
                                                    std::to_string(least.count()) +
                                                    "): an attempt must end inside a "
                                                    "renewed lease");
  return {};
}

Result<BrokerConfig> parse_document(const json& doc) {
  if (!doc.is_object()) return config_error("", "must be a JSON object");
  if (auto r = check_keys(doc, "",
                          {"listen", "store", "delivery", "limits", "deadlines", "clock",
                           "identity", "endpoints", "tls", "outbound_tls", "operators", "console",
                           "log", "metrics", "privacy", "audit", "retention", "cluster"});
      !r)
    return r.error();
  BrokerConfig config;
  // Named first: without it, the first complaint would be about tls (issue 12, item 17).
  const json* listen = find(doc, "listen");
  if (listen == nullptr) {
    return config_error("listen",
                        "is required (the address and port to listen on; plain HTTP also needs "
                        "\"allow_plain_http\": true, on loopback)");
  }
  if (auto r = parse_listen(*listen, "listen", config.listen); !r) return r.error();
  if (const json* v = find(doc, "store"))
    if (auto r = parse_store(*v, "store", config.store); !r) return r.error();
  if (const json* v = find(doc, "delivery"))
    if (auto r = parse_delivery(*v, "delivery", config.delivery); !r) return r.error();
  if (const json* v = find(doc, "limits"))
    if (auto r = parse_limits(*v, "limits", config.limits); !r) return r.error();
  if (const json* v = find(doc, "deadlines"))
    if (auto r = parse_deadlines(*v, "deadlines", config.deadlines); !r) return r.error();
  if (const json* v = find(doc, "clock"))
    if (auto r = parse_clock(*v, "clock", config.clock); !r) return r.error();

  const json* identity = find(doc, "identity");
  if (identity == nullptr) return config_error("identity", "is required");
  if (auto r = parse_identity(*identity, "identity", config.identity); !r) return r.error();

  const json* endpoints = find(doc, "endpoints");
  if (endpoints == nullptr) return config_error("endpoints", "is required");
  auto parsed =
      parse_endpoints(*endpoints, "endpoints", config.identity, config.endpoint_certificates);
  if (!parsed.ok()) return parsed.error();
  config.endpoints = std::move(*parsed);

  if (const json* v = find(doc, "tls")) {
    config.tls.emplace();
    if (auto r = parse_tls(*v, "tls", *config.tls); !r) return r.error();
  }
  if (const json* v = find(doc, "outbound_tls")) {
    config.outbound_tls.emplace();
    if (auto r = parse_outbound_tls(*v, "outbound_tls", *config.outbound_tls); !r) return r.error();
  }
  if (const json* v = find(doc, "operators")) {
    auto operators = parse_operators(*v, "operators", config.endpoint_certificates);
    if (!operators) return operators.error();
    config.operators = std::move(*operators);
  }
  if (const json* v = find(doc, "console")) {
    if (auto r = check_object(*v, "console"); !r) return r.error();
    if (auto r = check_keys(*v, "console", {"assets"}); !r) return r.error();
    if (const json* a = find(*v, "assets")) {
      auto text = read_string(*a, "console.assets");
      if (!text) return text.error();
      config.console_assets = *text;
    }
  }
  if (auto r = parse_operations(doc, config); !r) return r.error();
  if (const json* v = find(doc, "audit"))
    if (auto r = parse_audit(*v, "audit", config.audit); !r) return r.error();
  if (const json* v = find(doc, "retention"))
    if (auto r = parse_retention(*v, "retention", config.retention); !r) return r.error();
  if (const json* v = find(doc, "cluster"))
    if (auto r = parse_cluster(*v, "cluster", config.delivery, config.cluster); !r)
      return r.error();
  if (auto r = check_transport_security(config); !r) return r.error();
  return config;
}

// Compares every byte whatever the first difference, so the time taken does not say where it is.
bool equal_in_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i) difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  return difference == 0;
}

}  // namespace

bool CertificateIdentity::matches(std::string_view cn, std::string_view fingerprint) const {
  if (empty()) return false;
  if (!subject_cn.empty() && cn != subject_cn) return false;
  if (!fingerprint_sha256.empty()) {
    if (fingerprint.size() != fingerprint_sha256.size()) return false;
    for (std::size_t i = 0; i < fingerprint.size(); ++i) {
      char c = fingerprint[i];
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
      if (c != fingerprint_sha256[i]) return false;
    }
  }
  return true;
}

const OperatorConfig* find_operator_by_token(const BrokerConfig& config, std::string_view token) {
  if (token.empty()) return nullptr;
  const std::string hash = sha256_hex(token);
  const OperatorConfig* found = nullptr;
  for (const OperatorConfig& op : config.operators) {
    // No early exit: every configured hash is compared.
    if (!op.token_sha256.empty() && equal_in_constant_time(hash, op.token_sha256) &&
        found == nullptr)
      found = &op;
  }
  return found;
}

Result<BrokerConfig> parse_config(const std::string& json_text) {
  try {
    RepeatedKeyFinder repeats;
    const json doc = json::parse(
        json_text,
        [&repeats](int, json::parse_event_t event, json& parsed) {
          return repeats.on_event(event, parsed);
        },
        /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      SyntaxErrorText syntax;
      json::sax_parse(json_text, &syntax);
      return config_error("", "not valid JSON: " + syntax.text);
    }
    if (repeats.first_repeat()) return config_error(*repeats.first_repeat(), "key appears twice");
    return parse_document(doc);
  } catch (const std::exception& e) {
    // The readers check every type before converting; this is the backstop for the library.
    return config_error("", std::string("unexpected: ") + e.what());
  }
}

std::string cluster_node(const ClusterConfig& cluster) {
  if (!cluster.node.empty()) return cluster.node;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "localhost");
  return std::string(host) + ":" + std::to_string(static_cast<long>(getpid()));
}

Result<BrokerConfig> load_config(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return make_error(Errc::kConfig, path + ": cannot read: is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::kConfig, path + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(Errc::kConfig, path + ": cannot read: " + std::strerror(errno));
  if (text.tellp() > static_cast<std::streamoff>(kMaxConfigBytes))
    return make_error(Errc::kConfig, path + ": larger than 16 MiB");
  auto config = parse_config(text.str());
  if (!config.ok()) return make_error(Errc::kConfig, path + ": " + config.error().detail);
  return config;
}

}  // namespace sektorbro
