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

}  // namespace sektorbro
