#include "broker/codec/xml_tree.hpp"

namespace sektorbro {

Result<XmlElement> parse_xml_tree(std::string_view utf8, std::string_view namespace_uri) {
  return parse_xml_tree(utf8, namespace_uri, kDefaultDecodeLimits);
}

Result<XmlElement> parse_xml_tree(std::string_view utf8, std::string_view namespace_uri,
                                  const DecodeLimits& limits) {
  return parse_xml_elements(utf8, namespace_uri, limits);
}

}  // namespace sektorbro
