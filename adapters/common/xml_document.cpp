#include "adapters/common/xml_document.hpp"

#include <rapidxml/rapidxml.hpp>
#include <utility>

#include "broker/codec/text_encoding.hpp"
#include "broker/codec/xml_tree.hpp"

namespace sektorbro::adapters {
namespace {

constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";

Error malformed(std::string detail) { return make_error(Errc::kMalformed, std::move(detail)); }

using Node = rapidxml::xml_node<char>;

struct Binding {
  std::string_view prefix;
  std::string_view uri;
};

// Builds the tree. Recursion depth is bounded by the codec's pre-scan (kMaxXmlDepth).
class Builder {
 public:
  Result<XmlNode> build(const Node& node) {
    const std::size_t scope = bindings_.size();
    for (auto* a = node.first_attribute(); a != nullptr; a = a->next_attribute()) {
      const std::string_view name(a->name(), a->name_size());
      const std::string_view value(a->value(), a->value_size());
      if (name == "xmlns") bindings_.push_back({{}, value});
      if (name.starts_with("xmlns:")) bindings_.push_back({name.substr(6), value});
    }
    XmlNode out;
    const std::string_view qname(node.name(), node.name_size());
    const auto colon = qname.find(':');
    auto uri =
        resolve(colon == std::string_view::npos ? std::string_view{} : qname.substr(0, colon));
    if (!uri) return uri.error();
    out.ns = std::string(*uri);
    out.name = std::string(colon == std::string_view::npos ? qname : qname.substr(colon + 1));
    for (auto* a = node.first_attribute(); a != nullptr; a = a->next_attribute()) {
      const std::string_view name(a->name(), a->name_size());
      if (name == "xmlns" || name.starts_with("xmlns:")) continue;
      XmlAttribute attr;
      const auto c = name.find(':');
      if (c != std::string_view::npos) {
        auto attr_uri = resolve(name.substr(0, c));
        if (!attr_uri) return attr_uri.error();
        attr.ns = std::string(*attr_uri);
      }
      attr.name = std::string(c == std::string_view::npos ? name : name.substr(c + 1));
      attr.value.assign(a->value(), a->value_size());
      out.attributes.push_back(std::move(attr));
    }
    for (auto* child = node.first_node(); child != nullptr; child = child->next_sibling()) {
      switch (child->type()) {
        case rapidxml::node_element: {
          auto sub = build(*child);
          if (!sub) return sub.error();
          sub->text_offset = out.text.size();
          out.children.push_back(std::move(*sub));
          break;
        }
        case rapidxml::node_data:
        case rapidxml::node_cdata:
          out.text.append(child->value(), child->value_size());
          break;
        default:
          break;
      }
    }
    bindings_.resize(scope);
    return out;
  }

 private:
  Result<std::string_view> resolve(std::string_view prefix) const {
    if (prefix == "xml") return kXmlNamespace;
    for (auto it = bindings_.rbegin(); it != bindings_.rend(); ++it)
      if (it->prefix == prefix) return it->uri;
    if (prefix.empty()) return std::string_view{};
    return malformed("undeclared namespace prefix");
  }

  std::vector<Binding> bindings_;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

const XmlNode* XmlNode::child(std::string_view ns_uri, std::string_view local) const {
  for (const auto& c : children)
    if (c.name == local && c.ns == ns_uri) return &c;
  return nullptr;
}

std::vector<const XmlNode*> XmlNode::all(std::string_view ns_uri, std::string_view local) const {
  std::vector<const XmlNode*> out;
  for (const auto& c : children)
    if (c.name == local && c.ns == ns_uri) out.push_back(&c);
  return out;
}

const std::string* XmlNode::attribute(std::string_view local) const {
  for (const auto& a : attributes)
    if (a.ns.empty() && a.name == local) return &a.value;
  return nullptr;
}

Result<XmlNode> parse_xml_document(std::string_view utf8) {
  // The codec's tree parser runs the pre-scan (DOCTYPE/ENTITY refusal, nesting bound, reference
  // checks) and RapidXML's well-formedness check; its tree is discarded because it keeps
  // neither attributes nor the place of child elements within text.
  if (auto checked = parse_xml_tree(utf8, {}); !checked) return checked.error();
  std::vector<char> buffer(utf8.begin(), utf8.end());
  buffer.push_back('\0');
  rapidxml::xml_document<char> doc;
  try {
    doc.parse<rapidxml::parse_validate_closing_tags>(buffer.data());
  } catch (const rapidxml::parse_error& e) {
    return malformed(std::string("not well-formed XML: ") + e.what());
  }
  const Node* root = nullptr;
  for (auto* n = doc.first_node(); n != nullptr; n = n->next_sibling())
    if (n->type() == rapidxml::node_element) root = n;
  if (root == nullptr) return malformed("no root element");
  return Builder().build(*root);
}

std::string text_with_breaks(const XmlNode& node, std::string_view break_name) {
  std::string out;
  std::size_t pos = 0;
  for (const auto& c : node.children) {
    if (c.name != break_name) continue;
    out.append(node.text, pos, c.text_offset - pos);
    out.push_back('\n');
    pos = c.text_offset;
  }
  out.append(node.text, pos, std::string::npos);
  return out;
}

std::string_view trim_space(std::string_view s) {
  while (!s.empty() && is_xml_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_xml_space(s.back())) s.remove_suffix(1);
  return s;
}

bool quotable_name(std::string_view name) {
  if (name.empty() || name.size() > 48) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '_')) return false;
  return true;
}

std::string redact_cpr_like(std::string_view text) {
  std::string out(text);
  std::size_t i = 0;
  while (i < out.size()) {
    if (!is_digit(out[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < out.size() && is_digit(out[j])) ++j;
    std::size_t run = j - i;
    // DDMMYY-SSSS: six digits, a hyphen, four digits.
    if (run == 6 && j + 5 <= out.size() && out[j] == '-' && is_digit(out[j + 1]) &&
        is_digit(out[j + 2]) && is_digit(out[j + 3]) && is_digit(out[j + 4]) &&
        (j + 5 == out.size() || !is_digit(out[j + 5]))) {
      for (std::size_t k = i; k < j + 5; ++k)
        if (out[k] != '-') out[k] = '*';
      j += 5;
    } else if (run == 10) {
      for (std::size_t k = i; k < j; ++k) out[k] = '*';
    }
    i = j;
  }
  return out;
}

}  // namespace sektorbro::adapters
