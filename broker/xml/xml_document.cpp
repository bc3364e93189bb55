#include "broker/xml/xml_document.hpp"

#include <algorithm>
#include <cstdint>
#include <rapidxml/rapidxml.hpp>
#include <type_traits>
#include <utility>

#include "broker/xml/text_encoding.hpp"

namespace sektorbro {
namespace {

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
// RapidXML drops character data that is whitespace only and followed by markup (it skips
// whitespace before deciding whether a data node follows). Mixed content needs it (spaces in
// MedCom's FixedFont between two <Break/>), so the pre-scan notes every such run inside the
// root element by the markup that follows it: the n-th start tag, the n-th end tag or the n-th
// CDATA section of the document, and the builder puts it back.
// before_end is keyed by the start-tag ordinal of the element being closed.
// Each list is sorted by ordinal, at most one run per ordinal (sorted vectors, not maps: a
// pretty-printed document has a run before almost every tag, and a map node per run was a
// good part of the allocations per decode, docs/performance.md).
using Runs = std::vector<std::pair<std::size_t, std::string_view>>;
struct DroppedWhitespace {
  Runs before_start;
  Runs before_end;
  Runs before_cdata;
};

// The working memory of one parse: the pre-scan's lists and stacks, RapidXML's copy of the
// document and the builder's text per depth. One per thread, emptied (not freed) by each parse,
// so a decode allocates only what its tree keeps (issue 8: these were ~7 allocations per
// decoded letter, plus the regrowth of texts). Nothing in it outlives a parse; a parse never
// starts another on the same thread. What a very large document made it grow is freed again.
struct ParseScratch {
  DroppedWhitespace ws;
  std::vector<std::size_t> open;
  std::vector<std::size_t> text;
  std::vector<char> buffer;
  std::vector<std::string> texts;

  void clear() {
    ws.before_start.clear();
    ws.before_end.clear();
    ws.before_cdata.clear();
    open.clear();
    text.clear();
    buffer.clear();
  }
  void release_if_large() {
    constexpr std::size_t kKeepBytes = 256 * 1024;
    if (buffer.capacity() > kKeepBytes) std::vector<char>().swap(buffer);
    for (Runs* runs : {&ws.before_start, &ws.before_end, &ws.before_cdata})
      if (runs->capacity() * sizeof(Runs::value_type) > kKeepBytes) Runs().swap(*runs);
    for (auto& t : texts)
      if (t.capacity() > kKeepBytes) std::string().swap(t);
  }
};

Result<void> prescan(std::string_view doc, const DecodeLimits& limits, ParseScratch& scratch) {
  DroppedWhitespace& ws = scratch.ws;
  int depth = 0;
  std::size_t elements = 0;
  std::size_t cdatas = 0;
  std::size_t i = 0;
  std::size_t run_start = 0;                      // where the current character data run began
  bool run_blank = true;                          // it is whitespace only so far
  std::vector<std::size_t>& open = scratch.open;  // start-tag ordinals of the open elements
  const auto note_run = [&](Runs& into, std::size_t ordinal, std::size_t at) {
    if (depth > 0 && run_blank && at > run_start)
      into.emplace_back(ordinal, doc.substr(run_start, at - run_start));
  };
  const auto reset_run = [&] {
    run_start = i;
    run_blank = true;
  };
  std::vector<std::size_t>& text = scratch.text;
  text.push_back(0);        // text[0]: outside the root element
  std::size_t next_lt = 0;  // the next '<' after i; stale once i reaches it
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
      run_blank = false;
      continue;
    }
    if (c != '<') {
      // The text runs to the next '<' or '&': two memchr scans, the '<' one remembered across
      // references so the text is read once. (string_view::find_first_of("<&") called memchr
      // on the two-byte set for every byte of text: 30 % of a decode, docs/performance.md.)
      if (next_lt <= i) next_lt = std::min(doc.find('<', i), doc.size());
      const std::size_t next = std::min(doc.substr(0, next_lt).find('&', i), next_lt);
      for (std::size_t k = i; k < next && run_blank; ++k) run_blank = is_xml_space(doc[k]);
      if (auto r = add_text(next - i); !r) return r;
      i = next;
      continue;
    }
    const std::string_view rest = doc.substr(i);
    if (rest.starts_with("<!--")) {
      if (auto r = skip_past("-->", "comment"); !r) return r;
      reset_run();
      continue;
    }
    if (rest.starts_with("<![CDATA[")) {
      const std::size_t start = i;
      note_run(ws.before_cdata, cdatas++, i);
      if (auto r = skip_past("]]>", "CDATA section"); !r) return r;
      if (auto r = add_text(i - start); !r) return r;
      reset_run();
      continue;
    }
    if (rest.starts_with("<?")) {
      if (auto r = skip_past("?>", "processing instruction"); !r) return r;
      reset_run();
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
        if (!open.empty()) {
          note_run(ws.before_end, open.back(), i);
          open.pop_back();
        }
        --depth;
        text.pop_back();
      }
    } else {
      note_run(ws.before_start, elements, i);
      if (elements + 1 > limits.max_elements)
        return malformed("more than " + std::to_string(limits.max_elements) + " elements");
      if (doc[j - 1] != '/') {
        if (++depth > limits.max_depth)
          return malformed("element nesting deeper than " + std::to_string(limits.max_depth));
        text.push_back(0);
        open.push_back(elements);
      }
      ++elements;
    }
    i = j + 1;
    reset_run();
  }
  // Runs before end tags are noted in end-tag order, keyed by the start-tag ordinal.
  std::sort(ws.before_end.begin(), ws.before_end.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return {};
}

using Node = rapidxml::xml_node<char>;

struct Binding {
  std::string_view prefix;
  std::string_view uri;
};

// An XML Name (XML 1.0 §2.3, Namespaces §3): of ASCII only letters, digits, '_', ':', '-', '.',
// not starting with a digit, '-' or '.'; bytes of multibyte UTF-8 characters pass (the encoding
// layer has checked them). RapidXML ends a name only at space, '/', '>' or '=', so "fu@l" would
// otherwise be read as a name (found by fuzz_fhir).
bool is_xml_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c >= 0x80) continue;
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool later = (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!letter && !(later && i > 0)) return false;
  }
  return true;
}

constexpr std::string_view kXsiNamespace = "http://www.w3.org/2001/XMLSchema-instance";

// Builds the tree: an XmlNode tree, or an XmlElement tree that keeps of names and attributes
// only what a reader of one namespace needs (no namespace URI and attribute strings per
// element). Both check the same: the element tree is identical apart from what it keeps.
// Recursion depth is bounded by the pre-scan (DecodeLimits::max_depth).
template <typename Out>
class Builder {
  static constexpr bool kFull = std::is_same_v<Out, XmlNode>;

 public:
  // `ns`: for XmlElement, the namespace whose elements are `in_namespace`.
  // `texts`: scratch buffers, one per depth (ParseScratch).
  Builder(const DroppedWhitespace& ws, std::string_view ns, std::vector<std::string>& texts)
      : ws_(ws), ns_(ns), scratch_(texts) {}

  Result<Out> build(const Node& node) {
    const std::size_t ordinal = next_start_++;
    const std::size_t scope = bindings_.size();
    if (!is_xml_name(std::string_view(node.name(), node.name_size())))
      return malformed("not well-formed XML: an element name that is not an XML name");
    for (auto* a = node.first_attribute(); a != nullptr; a = a->next_attribute()) {
      const std::string_view name(a->name(), a->name_size());
      const std::string_view value(a->value(), a->value_size());
      if (!is_xml_name(name))
        return malformed("not well-formed XML: an attribute name that is not an XML name");
      if (name == "xmlns") {
        bindings_.push_back({{}, value});
      } else if (name.starts_with("xmlns:")) {
        if (value.empty()) return malformed("empty namespace declaration for a prefix");
        bindings_.push_back({name.substr(6), value});
      }
      for (auto* b = a->next_attribute(); b != nullptr; b = b->next_attribute())
        if (name == std::string_view(b->name(), b->name_size()))
          return malformed("duplicate attribute");
    }
    Out out;
    const std::string_view qname(node.name(), node.name_size());
    const auto colon = qname.find(':');
    auto uri =
        resolve(colon == std::string_view::npos ? std::string_view{} : qname.substr(0, colon));
    if (!uri) return uri.error();
    if constexpr (kFull)
      out.ns = std::string(*uri);
    else
      out.in_namespace = *uri == ns_;
    out.name = std::string(colon == std::string_view::npos ? qname : qname.substr(colon + 1));
    for (auto* a = node.first_attribute(); a != nullptr; a = a->next_attribute()) {
      const std::string_view name(a->name(), a->name_size());
      if (name == "xmlns" || name.starts_with("xmlns:")) continue;
      std::string_view attr_ns;
      const auto c = name.find(':');
      if (c != std::string_view::npos) {
        auto attr_uri = resolve(name.substr(0, c));
        if (!attr_uri) return attr_uri.error();
        attr_ns = *attr_uri;
      }
      const std::string_view local = c == std::string_view::npos ? name : name.substr(c + 1);
      if constexpr (kFull) {
        XmlAttribute attr;
        attr.ns = std::string(attr_ns);
        attr.name = std::string(local);
        attr.value.assign(a->value(), a->value_size());
        out.attributes.push_back(std::move(attr));
      } else if (!(attr_ns == kXsiNamespace && local == "schemaLocation")) {
        out.has_foreign_attribute = true;
      }
    }
    std::size_t elements = 0;
    for (auto* child = node.first_node(); child != nullptr; child = child->next_sibling())
      if (child->type() == rapidxml::node_element) ++elements;
    out.children.reserve(elements);
    // An element with element children gathers its text (mostly the indentation around them)
    // in this depth's scratch buffer, kept for the whole document, and copies it once at its
    // final size: appended piece by piece into out.text it regrew several times (issue 8: ~18
    // allocations per decoded letter). A leaf appends straight into out.text (usually once).
    // The buffer is named by index, never held across a child: a deeper level may add one.
    const std::size_t level = depth_++;
    if (elements > 0) {
      if (scratch_.size() <= level) scratch_.emplace_back();
      scratch_[level].clear();
    }
    const auto text = [&]() -> std::string& { return elements > 0 ? scratch_[level] : out.text; };
    for (auto* child = node.first_node(); child != nullptr; child = child->next_sibling()) {
      switch (child->type()) {
        case rapidxml::node_element: {
          restore(ws_.before_start, next_start_, text());
          auto sub = build(*child);
          if (!sub) return sub.error();
          if constexpr (kFull) sub->text_offset = text().size();
          out.children.push_back(std::move(*sub));
          break;
        }
        case rapidxml::node_cdata:
          restore(ws_.before_cdata, next_cdata_++, text());
          text().append(child->value(), child->value_size());
          break;
        case rapidxml::node_data:
          text().append(child->value(), child->value_size());
          break;
        default:
          break;
      }
    }
    restore(ws_.before_end, ordinal, text());
    if (elements > 0) out.text = scratch_[level];
    --depth_;
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

  static void restore(const Runs& runs, std::size_t ordinal, std::string& text) {
    const auto it = std::lower_bound(runs.begin(), runs.end(), ordinal,
                                     [](const auto& run, std::size_t o) { return run.first < o; });
    if (it != runs.end() && it->first == ordinal) text.append(it->second);
  }

  const DroppedWhitespace& ws_;
  std::string_view ns_;
  std::size_t next_start_ = 0;
  std::size_t next_cdata_ = 0;
  std::vector<Binding> bindings_;
  std::size_t depth_ = 0;              // of the element being built
  std::vector<std::string>& scratch_;  // per depth: the text of the element open there
};

// Pre-scan, RapidXML, then the builder: the steps shared by both trees.
template <typename Out>
Result<Out> parse(std::string_view utf8, const DecodeLimits& limits, std::string_view ns) {
  thread_local ParseScratch scratch;
  scratch.clear();
  struct Release {
    ParseScratch& s;
    ~Release() { s.release_if_large(); }
  } release{scratch};
  const DroppedWhitespace& ws = scratch.ws;
  if (auto scanned = prescan(utf8, limits, scratch); !scanned) return scanned.error();
  // RapidXML parses in place and needs a terminating NUL; the pre-scan and the UTF-8 check
  // guarantee no NUL and no undefined entity inside.
  std::vector<char>& buffer = scratch.buffer;
  buffer.reserve(utf8.size() + 1);
  buffer.assign(utf8.begin(), utf8.end());
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
  return Builder<Out>(ws, ns, scratch.texts).build(*root);
}

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
  return parse_xml_document(utf8, kDefaultDecodeLimits);
}

Result<XmlNode> parse_xml_document(std::string_view utf8, const DecodeLimits& limits) {
  return parse<XmlNode>(utf8, limits, {});
}

Result<XmlElement> parse_xml_elements(std::string_view utf8, std::string_view namespace_uri,
                                      const DecodeLimits& limits) {
  return parse<XmlElement>(utf8, limits, namespace_uri);
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

}  // namespace sektorbro
