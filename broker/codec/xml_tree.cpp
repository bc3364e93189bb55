#include "broker/codec/xml_tree.hpp"

#include <utility>

#include "broker/xml/xml_document.hpp"

namespace sektorbro {
namespace {

constexpr std::string_view kXsiNamespace = "http://www.w3.org/2001/XMLSchema-instance";

// Recursion depth is bounded by the pre-scan's max_depth.
XmlElement reduce(XmlNode&& node, std::string_view ns) {
  XmlElement out;
  out.name = std::move(node.name);
  out.in_namespace = node.ns == ns;
  for (const auto& a : node.attributes)
    if (!(a.ns == kXsiNamespace && a.name == "schemaLocation")) out.has_foreign_attribute = true;
  out.text = std::move(node.text);
  out.children.reserve(node.children.size());
  for (auto& c : node.children) out.children.push_back(reduce(std::move(c), ns));
  return out;
}

}  // namespace

Result<XmlElement> parse_xml_tree(std::string_view utf8, std::string_view namespace_uri) {
  return parse_xml_tree(utf8, namespace_uri, kDefaultDecodeLimits);
}

Result<XmlElement> parse_xml_tree(std::string_view utf8, std::string_view namespace_uri,
                                  const DecodeLimits& limits) {
  auto tree = parse_xml_document(utf8, limits);
  if (!tree) return tree.error();
  return reduce(std::move(*tree), namespace_uri);
}

}  // namespace sektorbro
