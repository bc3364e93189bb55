// The native codec's view of a document: the XML layer's checked tree (broker/xml/
// xml_document.hpp, which runs the pre-scan and the limits) reduced to what the native schema
// needs — elements of one namespace, whether any foreign attribute is present, and their text.
// Pure; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.hpp"
#include "broker/xml/decode_limits.hpp"

namespace sektorbro {

inline constexpr int kMaxXmlDepth = kDefaultDecodeLimits.max_depth;

// One element. Comments and processing instructions are dropped; character data and CDATA are
// concatenated into `text` (entity references resolved, untrimmed).
struct XmlElement {
  std::string name;                    // local name, prefix removed
  bool in_namespace = false;           // its namespace URI is the one asked for
  bool has_foreign_attribute = false;  // any attribute other than namespace declarations and
                                       // xsi:schemaLocation
  std::string text;
  std::vector<XmlElement> children;
};

// Parses a UTF-8 document (see to_utf8_document) with exactly one root element. Errors are
// kMalformed with a detail that never echoes document content. The first form uses
// kDefaultDecodeLimits.
Result<XmlElement> parse_xml_tree(std::string_view utf8, std::string_view namespace_uri);
Result<XmlElement> parse_xml_tree(std::string_view utf8, std::string_view namespace_uri,
                                  const DecodeLimits& limits);

}  // namespace sektorbro
