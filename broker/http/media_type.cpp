#include "broker/http/media_type.hpp"

namespace sektorbro {
namespace {

// tchar (RFC 9110 §5.6.2).
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool done() const { return at_ >= s_.size(); }
  char peek() const { return s_[at_]; }
  void skip_ows() {
    while (!done() && (peek() == ' ' || peek() == '\t')) ++at_;
  }
  bool take(char c) {
    if (done() || peek() != c) return false;
    ++at_;
    return true;
  }
  // A non-empty token, lower-cased; nullopt if there is none here.
  std::optional<std::string> token(bool to_lower) {
    std::string out;
    while (!done() && is_token_char(peek())) out.push_back(to_lower ? lower(s_[at_++]) : s_[at_++]);
    if (out.empty()) return std::nullopt;
    return out;
  }
  // quoted-string with quoted-pair; nullopt if unterminated or holding a control character.
  std::optional<std::string> quoted() {
    std::string out;
    ++at_;  // the opening quote
    while (!done()) {
      const char c = s_[at_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (done()) return std::nullopt;
        out.push_back(s_[at_++]);
        continue;
      }
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7F) return std::nullopt;
      out.push_back(c);
    }
    return std::nullopt;
  }

 private:
  std::string_view s_;
  std::size_t at_ = 0;
};

}  // namespace

std::optional<MediaType> parse_media_type(std::string_view value) {
  Reader r(value);
  r.skip_ows();
  MediaType m;
  auto type = r.token(true);
  if (!type || !r.take('/')) return std::nullopt;
  auto subtype = r.token(true);
  if (!subtype) return std::nullopt;
  m.type = std::move(*type);
  m.subtype = std::move(*subtype);
  r.skip_ows();
  while (!r.done()) {
    if (!r.take(';')) return std::nullopt;
    r.skip_ows();
    if (r.done()) break;  // a trailing ';' is tolerated
    auto name = r.token(true);
    if (!name || !r.take('=')) return std::nullopt;
    std::optional<std::string> parameter_value;
    if (!r.done() && r.peek() == '"') {
      parameter_value = r.quoted();
    } else {
      parameter_value = r.token(false);
    }
    if (!parameter_value) return std::nullopt;
    m.parameters[std::move(*name)] = std::move(*parameter_value);
    r.skip_ows();
  }
  return m;
}

bool accepts_xml_content_type(std::string_view value) {
  // The values XML senders send (the side-by-side bench's load among them) are taken as they
  // are; parsing them built a MediaType with a parameter map per request (issue 8). The parser
  // below says the same of each.
  for (const std::string_view usual :
       {"application/xml", "application/xml; charset=utf-8", "application/xml; charset=UTF-8",
        "text/xml", "text/xml; charset=utf-8", "text/xml; charset=UTF-8"})
    if (value == usual) return true;
  const auto m = parse_media_type(value);
  if (!m) return false;
  if (m->subtype == "xml") return m->type == "application" || m->type == "text";
  constexpr std::string_view kSuffix = "+xml";
  return m->type == "application" && m->subtype.size() > kSuffix.size() &&
         m->subtype.ends_with(kSuffix);
}

bool accepts_fhir_json_content_type(std::string_view value) {
  const auto m = parse_media_type(value);
  return m && m->type == "application" && m->subtype == "fhir+json";
}

}  // namespace sektorbro
