// The native codec's view of a document: the XML layer's checked tree (broker/xml/
// xml_document.hpp, which runs the pre-scan and the limits) reduced to what the native schema
// needs — elements of one namespace, whether any foreign attribute is present, and their text
// (XmlElement, built directly by the XML layer). Pure; any thread.
#pragma once

#include <string_view>

#include "broker/core/result.hpp"
#include "broker/xml/decode_limits.hpp"
#include "broker/xml/xml_document.hpp"

namespace sektorbro {

inline constexpr int kMaxXmlDepth = kDefaultDecodeLimits.max_depth;

// Parses a UTF-8 document (see to_utf8_document) with exactly one root element. Comments and
// processing instructions are dropped; character data and CDATA are concatenated into
// XmlElement::text (entity references resolved, untrimmed). Errors are kMalformed with a
// detail that never echoes document content. The first form uses kDefaultDecodeLimits.
Result<XmlElement> parse_xml_tree(std::string_view utf8, std::string_view namespace_uri);
Result<XmlElement> parse_xml_tree(std::string_view utf8, std::string_view namespace_uri,
                                  const DecodeLimits& limits);

}  // namespace sektorbro
