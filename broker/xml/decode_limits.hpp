// DecodeLimits: the size limits the codec enforces on an untrusted document before RapidXML
// sees it (issue 5, "Hostile input"). The pre-scan in xml_document.cpp checks all of them in one
// linear pass, so a document over any limit costs no more than reading it once. The defaults
// are far above any real Emessage (a few KiB, a few dozen elements) and far below what would
// hurt the broker. A plain value type; any thread.
#pragma once

#include <cstddef>

namespace sektorbro {

struct DecodeLimits {
  // Element nesting. RapidXML recurses once per level, so this bounds its stack use.
  int max_depth = 64;
  // Elements in the whole document (start tags and empty-element tags).
  std::size_t max_elements = 100'000;
  // Attributes on one element, namespace declarations included.
  std::size_t max_attributes = 64;
  // Bytes of character data (text and CDATA, before entity expansion) in one element, and
  // bytes in one attribute value.
  std::size_t max_text_bytes = 1024 * 1024;
};

inline constexpr DecodeLimits kDefaultDecodeLimits{};

}  // namespace sektorbro
