// The request target of an HTTP request, taken apart: path segments and query parameters,
// percent-decoded. Pure functions over untrusted bytes (fuzzed by broker/http/fuzz/); no Asio.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sektorbro {

// "/v1/messages/579/REQ1" → {"v1", "messages", "579", "REQ1"}; empty segments are dropped.
std::vector<std::string> split_path(std::string_view path);
// "a=1&b=x%20y" → {{"a","1"},{"b","x y"}}; a later repeat of a key wins.
std::map<std::string, std::string> parse_query(std::string_view query);
// The query of a request target ("" if none).
std::string_view query_of(std::string_view target);
// The path of a request target (everything before '?').
std::string_view path_of(std::string_view target);
// Whether every path segment and every query name and value, once percent-decoded, is UTF-8
// text (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF) without C0 control
// characters or DEL. Routes take ids and names from the target and echo them in JSON answers
// and logs, so a target that is not text is answered 400 before any route sees it (issue 12,
// item 8: "/v1/letters/%FF" was a 500).
bool target_is_text(std::string_view target);

}  // namespace sektorbro
