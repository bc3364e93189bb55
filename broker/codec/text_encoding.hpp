// The character layer of the codec: untrusted bytes in, a checked UTF-8 document out, before any
// XML parsing. Pure; any thread.
#pragma once

#include <string>
#include <string_view>

#include "broker/core/result.hpp"

namespace sektorbro {

// Reads the encoding from the XML declaration (none = UTF-8; a UTF-8 BOM is allowed and
// dropped) and returns the document as UTF-8. Accepted: UTF-8 and ISO-8859-1 (MedCom files are
// often latin1, domain.md §2), names compared case-insensitively. Everything else is kMalformed:
// unknown or conflicting encodings, invalid UTF-8 (overlongs, surrogates, stray bytes), and
// characters XML 1.0 forbids (C0 controls other than tab/LF/CR, U+FFFE, U+FFFF). Line ends are
// normalised to LF as XML 1.0 §2.11 requires, since RapidXML does not do it. Details name byte
// offsets, never content.
Result<std::string> to_utf8_document(std::string_view bytes);

// The length of the well-formed UTF-8 sequence at s[i] if it encodes a character XML 1.0
// allows (no overlongs, surrogates, C0 controls other than tab/LF/CR, U+FFFE, U+FFFF); else 0.
std::size_t xml_char_length(std::string_view s, std::size_t i);

// XML whitespace: space, tab, CR, LF (the XSD \s class).
inline bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace sektorbro
