// A Content-Type header value taken apart as HTTP defines it (RFC 9110 §8.3.1:
// type "/" subtype *( OWS ";" OWS name "=" ( token / quoted-string ) )), and the one decision
// the broker makes with it: may this body be read as a message? Pure functions over untrusted
// bytes; no Asio.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sektorbro {

struct MediaType {
  std::string type;     // lower case, e.g. "application"
  std::string subtype;  // lower case, e.g. "xml" or "fhir+xml"
  // Names lower case, values as sent (quoted strings unquoted); a repeated name: the last wins.
  std::map<std::string, std::string> parameters;
};

// The media type of a Content-Type value, or nullopt when it is not one (empty, no subtype,
// a character outside a token, an unterminated quoted string, a parameter without '=').
std::optional<MediaType> parse_media_type(std::string_view value);

// Whether a message may be posted with this Content-Type (issue 12, item 9): XML as the media
// type says it, not a value that merely contains "xml" somewhere. Accepted: application/xml and
// text/xml (RFC 7303), and application/<vocabulary>+xml (the +xml structured syntax suffix,
// RFC 6839, e.g. application/fhir+xml), in any case, with any well-formed parameters. The
// charset parameter is not checked here: the XML declaration decides the encoding (codec rule).
// An empty value is not a media type and answers false; whether a missing header is allowed is
// the caller's decision.
bool accepts_xml_content_type(std::string_view value);

// Whether the body is declared as FHIR JSON (issue 9: MedCom FHIR messages also arrive as
// application/fhir+json, FHIR R4 §3.1.0.1.6): exactly that media type, any case, any
// well-formed parameters. Plain application/json is not a message.
bool accepts_fhir_json_content_type(std::string_view value);

}  // namespace sektorbro
