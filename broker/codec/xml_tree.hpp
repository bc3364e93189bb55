// A checked, namespace-resolved element tree of an untrusted XML document, made with RapidXML.
// Before RapidXML sees the bytes, a linear pre-scan refuses what RapidXML would handle badly or
// not at all: DOCTYPE and ENTITY declarations (no entity expansion, ever), undefined entity
// references, character references to non-characters, and documents over the DecodeLimits
// (limits.hpp): nesting deeper than max_depth (RapidXML recurses once per level), more elements
// or attributes than allowed, text longer than allowed. Pure; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "broker/codec/limits.hpp"
#include "broker/core/result.hpp"

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
