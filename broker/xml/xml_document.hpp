// The one XML reader of Sektorbro, used by the native codec and every MedCom adapter: a
// namespace-resolved element tree with attributes and mixed content (the place of each child
// element within its parent's text is kept, so <Break/>, <br/> and <FixedFont> runs read back
// in order). Before RapidXML sees the bytes, a linear pre-scan refuses what RapidXML would
// handle badly or not at all: DOCTYPE and ENTITY declarations (no entity expansion, ever),
// undefined entity references, character references to non-characters, and documents over the
// DecodeLimits (nesting, element and attribute counts, text length). Undeclared prefixes,
// empty prefix declarations and duplicate attributes are refused too. Pure; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.hpp"
#include "broker/xml/decode_limits.hpp"

namespace sektorbro {

struct XmlAttribute {
  std::string ns;    // namespace URI; empty for unprefixed attributes
  std::string name;  // local name
  std::string value;
};

struct XmlNode {
  std::string ns;                        // namespace URI of the element
  std::string name;                      // local name
  std::vector<XmlAttribute> attributes;  // namespace declarations excluded
  std::string text;                      // direct character data and CDATA, concatenated
  std::vector<XmlNode> children;         // elements only
  std::size_t text_offset = 0;           // where this element sits within its parent's `text`

  // The first child with this local name in namespace `ns_uri`; nullptr if none.
  const XmlNode* child(std::string_view ns_uri, std::string_view local) const;
  std::vector<const XmlNode*> all(std::string_view ns_uri, std::string_view local) const;
  // The value of the unprefixed attribute `local`; nullptr if absent.
  const std::string* attribute(std::string_view local) const;
};

// Parses a UTF-8 document (as made by decode_document) with one root element. Errors are
// kMalformed; details give byte offsets, never content. The first form uses
// kDefaultDecodeLimits.
Result<XmlNode> parse_xml_document(std::string_view utf8);
Result<XmlNode> parse_xml_document(std::string_view utf8, const DecodeLimits& limits);

// A lighter tree for a reader of one vocabulary (the native codec): per element only its local
// name, whether it is in the namespace asked for, whether it has an attribute other than
// namespace declarations and xsi:schemaLocation, its text and its child elements. Checked
// exactly as parse_xml_document checks (same pre-scan, limits and errors); cheaper because no
// namespace URI or attribute is copied per element.
struct XmlElement {
  std::string name;                    // local name, prefix removed
  bool in_namespace = false;           // its namespace URI is the one asked for
  bool has_foreign_attribute = false;  // see above
  std::string text;                    // direct character data and CDATA, concatenated
  std::vector<XmlElement> children;    // elements only
};
Result<XmlElement> parse_xml_elements(std::string_view utf8, std::string_view namespace_uri,
                                      const DecodeLimits& limits);

// The element's text with every child element named `break_name` replaced by a line feed and
// other child elements ignored (MedCom's <Break/> in RefuseText, <br/> in Text01).
std::string text_with_breaks(const XmlNode& node, std::string_view break_name);

// XML whitespace trimmed from both ends.
std::string_view trim_space(std::string_view s);

// An element name fit to quote in an error detail: letters only, short (a name with digits
// could be a CPR number).
bool quotable_name(std::string_view name);

// Replaces every run of exactly ten digits (and DDMMYY-SSSS) by asterisks: free texts from
// foreign systems (RefuseText, diagnostics) may quote a CPR number, and the native model
// promises receipt texts without one.
std::string redact_cpr_like(std::string_view text);

}  // namespace sektorbro
