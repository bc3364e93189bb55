#include "broker/codec/xml_tree.hpp"

#include <algorithm>
#include <cstdint>
#include <rapidxml/rapidxml.hpp>
#include <utility>

namespace sektorbro {
namespace {

constexpr std::string_view kXsiNamespace = "http://www.w3.org/2001/XMLSchema-instance";
constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";

Error malformed(std::string detail) { return make_error(Errc::kMalformed, std::move(detail)); }

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_xml_char(std::uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

// Checks the reference starting at doc[i] == '&'; returns its length or an error. Only the five
// predefined entities and character references to XML characters exist without a DTD.
Result<std::size_t> check_reference(std::string_view doc, std::size_t i) {
  const auto semi = doc.find(';', i);
  if (semi == std::string_view::npos || semi - i > 12)
    return malformed("bad entity or character reference at byte offset " + std::to_string(i));
  const std::string_view ref = doc.substr(i + 1, semi - i - 1);
  const std::size_t len = semi - i + 1;
  if (ref == "lt" || ref == "gt" || ref == "amp" || ref == "quot" || ref == "apos") return len;
  if (ref.size() >= 2 && ref[0] == '#') {
    const bool hex = ref[1] == 'x';
    const std::string_view digits = ref.substr(hex ? 2 : 1);
    std::uint32_t cp = 0;
    bool ok = !digits.empty() && digits.size() <= 8;
    for (char c : digits) {
      if (!ok) break;
      if (hex ? !is_hex(c) : !(c >= '0' && c <= '9')) {
        ok = false;
        break;
      }
      const std::uint32_t v = (c >= '0' && c <= '9')   ? std::uint32_t(c - '0')
                              : (c >= 'a' && c <= 'f') ? std::uint32_t(c - 'a' + 10)
                                                       : std::uint32_t(c - 'A' + 10);
      cp = cp * (hex ? 16 : 10) + v;
    }
    if (ok && is_xml_char(cp)) return len;
    return malformed("character reference to a non-character at byte offset " + std::to_string(i));
  }
  return malformed("undefined entity reference at byte offset " + std::to_string(i));
}

// The pre-scan described in the header. Linear, no recursion. `text` holds the character data
// counted so far for each open element (depth is bounded, so the vector is small).
Result<void> prescan(std::string_view doc, const DecodeLimits& limits) {
  int depth = 0;
  std::size_t elements = 0;
  std::vector<std::size_t> text(1, 0);  // text[0]: outside the root element
  std::size_t i = 0;
  const auto skip_past = [&](std::string_view close, const char* what) -> Result<void> {
    const auto end = doc.find(close, i);
    if (end == std::string_view::npos) return malformed(std::string(what) + " not terminated");
    i = end + close.size();
    return {};
  };
  const auto add_text = [&](std::size_t bytes) -> Result<void> {
    text.back() += bytes;
    if (text.back() > limits.max_text_bytes)
      return malformed("text of one element longer than " + std::to_string(limits.max_text_bytes) +
                       " bytes");
    return {};
  };
  while (i < doc.size()) {
    const char c = doc[i];
    if (c == '&') {
      auto len = check_reference(doc, i);
      if (!len) return len.error();
      if (auto r = add_text(*len); !r) return r;
      i += *len;
      continue;
    }
    if (c != '<') {
      const auto next = std::min(doc.find_first_of("<&", i), doc.size());
      if (auto r = add_text(next - i); !r) return r;
      i = next;
      continue;
    }
    const std::string_view rest = doc.substr(i);
    if (rest.starts_with("<!--")) {
      if (auto r = skip_past("-->", "comment"); !r) return r;
      continue;
    }
    if (rest.starts_with("<![CDATA[")) {
      const std::size_t start = i;
      if (auto r = skip_past("]]>", "CDATA section"); !r) return r;
      if (auto r = add_text(i - start); !r) return r;
      continue;
    }
    if (rest.starts_with("<?")) {
      if (auto r = skip_past("?>", "processing instruction"); !r) return r;
      continue;
    }
    if (rest.starts_with("<!DOCTYPE")) return malformed("DOCTYPE declarations are not allowed");
    if (rest.starts_with("<!ENTITY")) return malformed("ENTITY declarations are not allowed");
    if (rest.starts_with("<!")) return malformed("markup declarations are not allowed");
    const bool closing = rest.starts_with("</");
    std::size_t j = i + 1;
    std::size_t attributes = 0;
    std::size_t value_start = 0;
    char quote = 0;
    for (; j < doc.size(); ++j) {
      const char d = doc[j];
      if (quote != 0) {
        if (d == quote) {
          quote = 0;
          if (j - value_start > limits.max_text_bytes)
            return malformed("attribute value longer than " +
                             std::to_string(limits.max_text_bytes) + " bytes");
        } else if (d == '&') {
          auto len = check_reference(doc, j);
          if (!len) return len.error();
          j += *len - 1;
        }
      } else if (d == '"' || d == '\'') {
        // Every attribute has exactly one quoted value.
        quote = d;
        value_start = j + 1;
        if (++attributes > limits.max_attributes)
          return malformed("more than " + std::to_string(limits.max_attributes) +
                           " attributes on one element");
      } else if (d == '>') {
        break;
      }
    }
    if (j >= doc.size()) return malformed("unexpected end of document inside a tag");
    if (closing) {
      if (depth > 0) {
        --depth;
        text.pop_back();
      }
    } else {
      if (++elements > limits.max_elements)
        return malformed("more than " + std::to_string(limits.max_elements) + " elements");
      if (doc[j - 1] != '/') {
        if (++depth > limits.max_depth)
          return malformed("element nesting deeper than " + std::to_string(limits.max_depth));
        text.push_back(0);
      }
    }
    i = j + 1;
  }
  return {};
}

using Node = rapidxml::xml_node<char>;

struct Binding {
  std::string_view prefix;  // empty = default namespace
  std::string_view uri;
};

class TreeBuilder {
 public:
  explicit TreeBuilder(std::string_view ns) : ns_(ns) {}

  Result<XmlElement> build(const Node& node) {
    const std::size_t scope = bindings_.size();
    // Declarations first: they apply to the element's own name and attributes.
    for (auto* a = node.first_attribute(); a != nullptr; a = a->next_attribute()) {
      const std::string_view name(a->name(), a->name_size());
      const std::string_view value(a->value(), a->value_size());
      if (name == "xmlns") {
        bindings_.push_back({{}, value});
      } else if (name.starts_with("xmlns:")) {
        if (value.empty()) return malformed("empty namespace declaration for a prefix");
        bindings_.push_back({name.substr(6), value});
      }
    }
    XmlElement out;
    const std::string_view qname(node.name(), node.name_size());
    const auto colon = qname.find(':');
    const std::string_view prefix =
        colon == std::string_view::npos ? std::string_view{} : qname.substr(0, colon);
    out.name = std::string(colon == std::string_view::npos ? qname : qname.substr(colon + 1));
    auto uri = resolve(prefix);
    if (!uri) return uri.error();
    out.in_namespace = *uri == ns_;

    for (auto* a = node.first_attribute(); a != nullptr; a = a->next_attribute()) {
      const std::string_view name(a->name(), a->name_size());
      for (auto* b = a->next_attribute(); b != nullptr; b = b->next_attribute())
        if (name == std::string_view(b->name(), b->name_size()))
          return malformed("duplicate attribute");
      if (name == "xmlns" || name.starts_with("xmlns:")) continue;
      const auto c = name.find(':');
      if (c == std::string_view::npos) {
        out.has_foreign_attribute = true;
        continue;
      }
      auto attr_uri = resolve(name.substr(0, c));
      if (!attr_uri) return attr_uri.error();
      if (!(*attr_uri == kXsiNamespace && name.substr(c + 1) == "schemaLocation"))
        out.has_foreign_attribute = true;
    }

    for (auto* child = node.first_node(); child != nullptr; child = child->next_sibling()) {
      switch (child->type()) {
        case rapidxml::node_element: {
          auto sub = build(*child);
          if (!sub) return sub.error();
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

  std::string_view ns_;
  std::vector<Binding> bindings_;
};

}  // namespace

Result<XmlElement> parse_xml_tree(std::string_view utf8, std::string_view namespace_uri) {
  return parse_xml_tree(utf8, namespace_uri, kDefaultDecodeLimits);
}

Result<XmlElement> parse_xml_tree(std::string_view utf8, std::string_view namespace_uri,
                                  const DecodeLimits& limits) {
  if (auto scanned = prescan(utf8, limits); !scanned) return scanned.error();
  // RapidXML parses in place and needs a terminating NUL; the pre-scan and the UTF-8 check
  // guarantee no NUL and no undefined entity inside.
  std::vector<char> buffer(utf8.begin(), utf8.end());
  buffer.push_back('\0');
  rapidxml::xml_document<char> doc;
  try {
    doc.parse<rapidxml::parse_validate_closing_tags>(buffer.data());
  } catch (const rapidxml::parse_error& e) {
    // what() is one of RapidXML's fixed messages; it never quotes the document.
    const auto offset = static_cast<std::size_t>(e.where<char>() - buffer.data());
    return malformed(std::string("not well-formed XML: ") + e.what() + " at byte offset " +
                     std::to_string(offset));
  }
  const Node* root = nullptr;
  for (auto* n = doc.first_node(); n != nullptr; n = n->next_sibling()) {
    if (n->type() != rapidxml::node_element) continue;
    if (root != nullptr) return malformed("more than one root element");
    root = n;
  }
  if (root == nullptr) return malformed("no root element");
  return TreeBuilder(namespace_uri).build(*root);
}

}  // namespace sektorbro
