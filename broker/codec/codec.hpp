// The native XML codec: bytes of a Sektorbro `Emessage` (namespace urn:sektorbro:messaging:1,
// schemas/sektorbro-message.xsd) to value types and back. Pure functions, no I/O, safe to call
// from any thread. Built on RapidXML; RapidXML exceptions never escape.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "broker/core/result.hpp"
#include "broker/message/message.hpp"
#include "broker/xml/decode_limits.hpp"

namespace sektorbro {

// Parses one Emessage. Accepts UTF-8 (with or without BOM) and ISO-8859-1 input as declared in
// the XML declaration (no declaration = UTF-8). Checks structure: namespace, required and
// repeated elements, value shapes (ids, GLN check digit, SOR digits, CPR shape, dates, enums),
// and that all letters share sender and receiver. Errors are kMalformed (not well-formed XML,
// bad encoding, DOCTYPE/entity declarations) or kInvalid (schema-level), with a detail that
// names the element path, e.g. "Letter[2]/Patient/CPR: expected 10 digits". Details never
// echo field values, so they are safe to log and to put in a negative receipt. Documents over
// the size limits (limits.hpp; kDefaultDecodeLimits unless given) are kMalformed before
// RapidXML sees them.
Result<Envelope> decode_envelope(std::string_view bytes);
Result<Envelope> decode_envelope(std::string_view bytes, const DecodeLimits& limits);

// Serialises to UTF-8 XML with an XML declaration. Deterministic: the same value gives the
// same bytes, so decode(encode(e)) == e and encode(decode(encode(e))) == encode(e).
std::string encode_envelope(const Envelope& envelope);

// The canonical serialisation of one letter (no envelope): the input to the content hash
// that tells a resend (same content) from a reused id (different content).
std::string encode_letter(const Letter& letter);

// About how many bytes a letter's XML takes: its free texts and the markup around them. A size
// hint (the encoders reserve it), and about what the decoded letter holds in memory.
std::size_t approximate_letter_bytes(const Letter& letter);

// The broker's answer to an accepted POST, as XML (schemas/sektorbro-acceptance.xsd).
std::string encode_acceptance(const Acceptance& acceptance);
Result<Acceptance> decode_acceptance(std::string_view bytes);

}  // namespace sektorbro
