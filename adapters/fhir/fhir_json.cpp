#include "adapters/fhir/fhir_json.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "adapters/fhir/fhir_xml_form.hpp"
#include "broker/xml/text_encoding.hpp"
#include "broker/xml/xml_builder.hpp"
#include "broker/xml/xml_document.hpp"

namespace sektorbro::adapters {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kFhirNs = "http://hl7.org/fhir";
constexpr std::string_view kXhtmlNs = "http://www.w3.org/1999/xhtml";
// Deeper than any FHIR message needs; the XML layer's own limit is checked again on the XML.
constexpr int kMaxDepth = 64;

Error malformed(std::string detail) { return make_error(Errc::kMalformed, std::move(detail)); }
Error invalid(std::string detail) { return make_error(Errc::kInvalid, std::move(detail)); }

// ---------------------------------------------------------------------------------------------
// JSON → XML

// nlohmann's DOM builder, except that a decimal is kept as the digits that were sent (FHIR: "1.50"
// is not "1.5") and nesting is bounded.
class RawNumberSax {
 public:
  explicit RawNumberSax(Json& root) : dom_(root, false) {}
  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(Json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(Json::number_float_t, const Json::string_t& raw) {
    Json::string_t copy = raw;
    return dom_.string(copy);
  }
  bool string(Json::string_t& s) { return dom_.string(s); }
  bool binary(Json::binary_t& b) { return dom_.binary(b); }
  bool start_object(std::size_t n) { return deeper() && dom_.start_object(n); }
  bool key(Json::string_t& k) { return dom_.key(k); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return deeper() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  template <typename Exception>
  bool parse_error(std::size_t at, const std::string&, const Exception&) {
    error_ = "not JSON (at byte " + std::to_string(at) + ")";
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  bool deeper() {
    if (++depth_ <= kMaxDepth) return true;
    error_ = "JSON nested deeper than " + std::to_string(kMaxDepth) + " levels";
    return false;
  }
  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  int depth_ = 0;
  std::string error_;
};

bool is_extension_name(std::string_view n) { return n == "extension" || n == "modifierExtension"; }

class XmlFromJson {
 public:
  Result<std::string> run(const Json& root) {
    out_ = R"(<?xml version="1.0" encoding="UTF-8"?>)";
    out_ += '\n';
    if (auto r = resource(root, "", true); !r) return r.error();
    return std::move(out_);
  }

 private:
  Result<void> resource(const Json& obj, const std::string& path, bool root) {
    const auto rt = obj.find("resourceType");
    if (rt == obj.end() || !rt->is_string() ||
        !is_fhir_resource_name(rt->get_ref<const std::string&>()))
      return invalid((path.empty() ? std::string("(root)") : path) +
                     ": expected a FHIR resource with a resourceType");
    const std::string& name = rt->get_ref<const std::string&>();
    out_ += '<';
    out_ += name;
    if (root) {
      out_ += R"( xmlns=")";
      out_ += kFhirNs;
      out_ += '"';
    }
    out_ += '>';
    if (auto r = members(obj, path.empty() ? name : path + "/" + name, true, name); !r) return r;
    close(name);
    return {};
  }

  Result<void> members(const Json& obj, const std::string& path, bool is_resource,
                       std::string_view element) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      const std::string& key = it.key();
      if (is_resource && key == "resourceType") continue;
      if (!is_resource && key == "id") continue;                          // an attribute
      if (!is_resource && key == "url" && is_extension_name(element)) continue;  // attribute
      if (key.starts_with('_')) {
        const std::string base = key.substr(1);
        if (obj.contains(base)) continue;  // written with its value
        if (!is_fhir_element_name(base)) return invalid(path + ": a property name FHIR does not have");
        if (auto r = property(base, nullptr, &*it, path); !r) return r;
        continue;
      }
      if (!is_fhir_element_name(key)) return invalid(path + ": a property name FHIR does not have");
      const auto ext = obj.find("_" + key);
      if (auto r = property(key, &*it, ext == obj.end() ? nullptr : &*ext, path); !r) return r;
    }
    return {};
  }

  Result<void> property(const std::string& name, const Json* value, const Json* ext,
                        const std::string& path) {
    const std::string here = path + "/" + name;
    if ((value && value->is_array()) || (!value && ext && ext->is_array())) {
      const std::size_t n = value ? value->size() : ext->size();
      if (ext && (!ext->is_array() || ext->size() != n))
        return invalid(here + ": _" + name + " does not pair with " + name);
      for (std::size_t i = 0; i < n; ++i) {
        const Json* v = value ? &(*value)[i] : nullptr;
        const Json* x = ext ? &(*ext)[i] : nullptr;
        if (v && v->is_array()) return invalid(here + ": an array inside an array");
        if (auto r = one(name, v, x, here); !r) return r;
      }
      return {};
    }
    return one(name, value, ext, here);
  }

  Result<void> one(const std::string& name, const Json* v, const Json* ext,
                   const std::string& path) {
    if (v && v->is_object()) {
      if (ext && !ext->is_null()) return invalid(path + ": _" + name + " on a complex element");
      if (v->contains("resourceType")) {
        open(name, {});
        if (auto r = resource(*v, path, false); !r) return r;
        close(name);
        return {};
      }
      std::vector<std::pair<std::string_view, std::string>> attrs;
      if (const auto id = v->find("id"); id != v->end()) {
        if (!id->is_string()) return invalid(path + "/id: expected a string");
        attrs.emplace_back("id", id->get<std::string>());
      }
      if (is_extension_name(name)) {
        const auto url = v->find("url");
        if (url == v->end() || !url->is_string()) return invalid(path + "/url: expected a string");
        attrs.emplace_back("url", url->get<std::string>());
      }
      open(name, attrs);
      if (auto r = members(*v, path, false, name); !r) return r;
      close(name);
      return {};
    }
    if (is_extension_name(name))  // an extension always has its url: an object (FHIR R4 json.html)
      return invalid(path + ": an extension must be an object");
    if (name == "div") {
      if (!v || !v->is_string()) return invalid(path + ": expected the XHTML as a string");
      return xhtml(v->get_ref<const std::string&>(), path);
    }
    // A primitive: its value, and from "_name" its id and extensions.
    std::optional<std::string> value;
    if (v && !v->is_null()) {
      if (v->is_string()) {
        value = v->get<std::string>();
      } else if (v->is_boolean() || v->is_number()) {
        value = v->dump();
      } else {
        return invalid(path + ": a value FHIR does not have");
      }
    }
    std::vector<std::pair<std::string_view, std::string>> attrs;
    const Json* extensions = nullptr;
    if (ext && !ext->is_null()) {
      if (!ext->is_object()) return invalid(path + ": _" + name + " must be an object");
      for (auto it = ext->begin(); it != ext->end(); ++it) {
        if (it.key() == "id" && it->is_string()) {
          attrs.emplace_back("id", it->get<std::string>());
        } else if (it.key() == "extension") {
          extensions = &*it;
        } else {
          return invalid(path + ": _" + name + " holds what a primitive's extension cannot");
        }
      }
    }
    if (!value && attrs.empty() && !extensions) return {};  // null: nothing there
    if (value) attrs.emplace_back("value", *value);
    if (!extensions) {
      open(name, attrs, true);
      return {};
    }
    open(name, attrs);
    if (auto r = property("extension", extensions, nullptr, path); !r) return r;
    close(name);
    return {};
  }

  // The narrative: one XHTML div element, checked by the XML reader before it goes in.
  Result<void> xhtml(const std::string& markup, const std::string& path) {
    auto tree = parse_xml_document(markup);
    if (!tree || tree->ns != kXhtmlNs || tree->name != "div")
      return invalid(path + ": expected one XHTML div element");
    const auto start = markup.find("<div");
    if (start == std::string::npos) return invalid(path + ": expected one XHTML div element");
    out_.append(markup, start);
    return {};
  }

  void open(std::string_view name, const std::vector<std::pair<std::string_view, std::string>>& a,
            bool empty = false) {
    out_ += '<';
    out_ += name;
    for (const auto& [k, v] : a) {
      out_ += ' ';
      out_ += k;
      out_ += "=\"";
      append_attribute_escaped(out_, v);
      out_ += '"';
    }
    out_ += empty ? "/>" : ">";
  }
  void close(std::string_view name) {
    out_ += "</";
    out_ += name;
    out_ += '>';
  }

  std::string out_;
};

// ---------------------------------------------------------------------------------------------
// XML → JSON

// Which repeating elements are JSON arrays (FHIR R4 cardinality 0..*), for the resources of
// MedCom's messages and the datatypes they use. `parent` is the element holding `name`;
// `resource` is set when that element is a resource (its type name).
bool is_array(std::string_view name, std::string_view parent, std::string_view resource) {
  static constexpr std::array<std::string_view, 48> kAlways = {
      "extension", "modifierExtension", "entry", "link", "coding", "given", "prefix", "suffix",
      "line", "telecom", "contact", "destination", "focus", "target", "agent", "entity",
      "payload", "category", "basedOn", "partOf", "inResponseTo", "recipient", "reasonCode",
      "reasonReference", "note", "contained", "issue", "diagnosis", "participant",
      "episodeOfCare", "statusHistory", "classHistory", "profile", "tag", "security",
      "performer", "policy", "signature", "alias", "communication", "generalPractitioner",
      "medium", "about", "expression", "location", "reason", "instantiatesCanonical",
      "instantiatesUri"};
  for (std::string_view a : kAlways)
    if (name == a) return true;
  const bool in_resource = !resource.empty();
  if (name == "identifier") return in_resource && resource != "Bundle";
  if (name == "name")
    return resource == "Patient" || resource == "Practitioner" || resource == "RelatedPerson" ||
           resource == "Person";
  if (name == "type")
    return resource == "Organization" || resource == "Encounter" || resource == "Location" ||
           resource == "EpisodeOfCare";
  if (name == "address") return resource != "Location" && parent != "contact" && in_resource;
  if (name == "endpoint") return in_resource;
  if (name == "role") return parent == "agent";
  return false;
}

// A primitive's JSON type where it is not a string (FHIR R4 boolean, integer, decimal).
enum class Kind { kString, kBoolean, kNumber };
Kind primitive_kind(std::string_view name, std::string_view parent) {
  static constexpr std::array<std::string_view, 12> kBooleans = {
      "active", "deceasedBoolean", "multipleBirthBoolean", "valueBoolean", "preferred",
      "experimental", "abstract", "immutable", "inactive", "userSelected", "doNotPerform",
      "primary"};
  static constexpr std::array<std::string_view, 9> kNumbers = {
      "total", "size", "rank", "multipleBirthInteger", "valueInteger", "valueUnsignedInt",
      "valuePositiveInt", "valueDecimal", "length"};
  for (std::string_view b : kBooleans)
    if (name == b) return Kind::kBoolean;
  for (std::string_view n : kNumbers)
    if (name == n) return Kind::kNumber;
  if (name == "value" && (parent.ends_with("Quantity") || parent == "quantity" ||
                          parent == "low" || parent == "high" || parent == "duration"))
    return Kind::kNumber;
  return Kind::kString;
}

bool is_json_number(std::string_view s) {
  if (s.empty()) return false;
  try {
    // A float keeps its digits both ways (RawNumberSax); an integer only when written as JSON
    // writes it back ("-0" or "+1" stay strings, or XML → JSON → XML would change them).
    const Json j = Json::parse(s);
    return j.is_number_float() || (j.is_number() && j.dump() == s);
  } catch (const Json::exception&) {
    return false;
  }
}

// A JSON value being written: a token (already JSON), an object or an array. An object's
// members are JMembers, not std::pairs: a pair needs JValue complete where JValue is still being
// defined (clang's libstdc++ checks; vector of an incomplete type is allowed since C++17).
struct JMember;
struct JValue {
  enum class Type { kToken, kObject, kArray } type = Type::kToken;
  std::string token;
  std::vector<JMember> members;
  std::vector<JValue> items;
};
struct JMember {
  std::string first;  // the member's name
  JValue second;
};

std::string json_string(std::string_view s) {
  return Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

JValue token(std::string t) {
  JValue v;
  v.token = std::move(t);
  return v;
}

void write(const JValue& v, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  switch (v.type) {
    case JValue::Type::kToken:
      out += v.token;
      return;
    case JValue::Type::kObject:
      if (v.members.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      for (std::size_t i = 0; i < v.members.size(); ++i) {
        out += pad;
        out += json_string(v.members[i].first);
        out += ": ";
        write(v.members[i].second, indent + 2, out);
        out += i + 1 < v.members.size() ? ",\n" : "\n";
      }
      out.append(static_cast<std::size_t>(indent), ' ');
      out += '}';
      return;
    case JValue::Type::kArray:
      out += "[\n";
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        out += pad;
        write(v.items[i], indent + 2, out);
        out += i + 1 < v.items.size() ? ",\n" : "\n";
      }
      out.append(static_cast<std::size_t>(indent), ' ');
      out += ']';
      return;
  }
}

// The XHTML element back as markup (its text and children in document order).
void serialize(const XmlNode& e, bool root, std::string& out) {
  out += '<';
  out += e.name;
  if (root) {
    out += R"( xmlns=")";
    out += kXhtmlNs;
    out += '"';
  }
  for (const auto& a : e.attributes) {
    out += ' ';
    if (a.ns == "http://www.w3.org/XML/1998/namespace") out += "xml:";
    out += a.name;
    out += "=\"";
    append_attribute_escaped(out, a.value);
    out += '"';
  }
  if (e.text.empty() && e.children.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  std::size_t at = 0;
  for (const auto& c : e.children) {
    const std::size_t until = std::min(c.text_offset, e.text.size());
    if (until > at) append_escaped(out, std::string_view(e.text).substr(at, until - at));
    at = std::max(at, until);
    serialize(c, false, out);
  }
  if (at < e.text.size()) append_escaped(out, std::string_view(e.text).substr(at));
  out += "</";
  out += e.name;
  out += '>';
}

bool is_resource_holder(const XmlNode& e) {
  return e.children.size() == 1 && !e.children.front().name.empty() &&
         e.children.front().name[0] >= 'A' && e.children.front().name[0] <= 'Z' &&
         e.attribute("value") == nullptr;
}

JValue object_of(const XmlNode& e, std::string_view resource);

JValue resource_of(const XmlNode& r) {
  JValue v = object_of(r, r.name);
  v.members.insert(v.members.begin(), {"resourceType", token(json_string(r.name))});
  return v;
}

// A primitive element: its value, and its id and extensions for "_name" (or nothing).
std::pair<JValue, std::optional<JValue>> primitive_of(const XmlNode& c, std::string_view parent) {
  JValue value = token("null");
  if (const std::string* s = c.attribute("value")) {
    switch (primitive_kind(c.name, parent)) {
      case Kind::kBoolean:
        value = token(*s == "true" || *s == "false" ? *s : json_string(*s));
        break;
      case Kind::kNumber:
        value = token(is_json_number(*s) ? *s : json_string(*s));
        break;
      case Kind::kString:
        value = token(json_string(*s));
        break;
    }
  }
  JValue ext;
  ext.type = JValue::Type::kObject;
  if (const std::string* id = c.attribute("id")) ext.members.push_back({"id", token(json_string(*id))});
  JValue extensions;
  extensions.type = JValue::Type::kArray;
  for (const auto& x : c.children)
    if (x.name == "extension") extensions.items.push_back(object_of(x, {}));
  if (!extensions.items.empty()) ext.members.push_back({"extension", std::move(extensions)});
  if (ext.members.empty()) return {std::move(value), std::nullopt};
  return {std::move(value), std::move(ext)};
}

bool is_primitive(const XmlNode& c) {
  if (c.attribute("value") != nullptr) return true;
  // Only an id and extensions, no value: a primitive whose value is absent (FHIR allows it).
  if (c.children.empty()) return true;
  return false;
}

JValue object_of(const XmlNode& e, std::string_view resource) {
  JValue obj;
  obj.type = JValue::Type::kObject;
  if (resource.empty()) {
    if (const std::string* id = e.attribute("id"))
      obj.members.push_back({"id", token(json_string(*id))});
    if (is_extension_name(e.name))
      if (const std::string* url = e.attribute("url"))
        obj.members.push_back({"url", token(json_string(*url))});
  }
  std::vector<std::string> order;
  for (const auto& c : e.children)
    if (std::find(order.begin(), order.end(), c.name) == order.end()) order.push_back(c.name);
  for (const std::string& name : order) {
    std::vector<const XmlNode*> cs;
    for (const auto& c : e.children)
      if (c.name == name) cs.push_back(&c);
    const bool array = cs.size() > 1 || is_array(name, e.name, resource);
    if (name == "div" && cs.front()->ns == kXhtmlNs) {
      std::string markup;
      serialize(*cs.front(), true, markup);
      obj.members.push_back({name, token(json_string(markup))});
      continue;
    }
    const bool primitive = !is_resource_holder(*cs.front()) && is_primitive(*cs.front());
    if (!primitive) {
      std::vector<JValue> values;
      for (const XmlNode* c : cs)
        values.push_back(is_resource_holder(*c) ? resource_of(c->children.front())
                                                : object_of(*c, {}));
      if (!array) {
        obj.members.push_back({name, std::move(values.front())});
      } else {
        JValue a;
        a.type = JValue::Type::kArray;
        a.items = std::move(values);
        obj.members.push_back({name, std::move(a)});
      }
      continue;
    }
    std::vector<std::pair<JValue, std::optional<JValue>>> values;
    bool any_ext = false;
    bool any_value = false;
    for (const XmlNode* c : cs) {
      values.push_back(primitive_of(*c, e.name));
      any_ext = any_ext || values.back().second.has_value();
      any_value = any_value || values.back().first.token != "null";
    }
    if (!array) {
      if (any_value) obj.members.push_back({name, std::move(values.front().first)});
      if (any_ext) obj.members.push_back({"_" + name, std::move(*values.front().second)});
      continue;
    }
    JValue a;
    a.type = JValue::Type::kArray;
    JValue x;
    x.type = JValue::Type::kArray;
    for (auto& [value, ext] : values) {
      a.items.push_back(std::move(value));
      x.items.push_back(ext ? std::move(*ext) : token("null"));
    }
    if (any_value) obj.members.push_back({name, std::move(a)});
    if (any_ext) obj.members.push_back({"_" + name, std::move(x)});
  }
  return obj;
}

}  // namespace

bool looks_like_json(std::string_view bytes) {
  if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
  const auto first = bytes.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && bytes[first] == '{';
}

Result<std::string> fhir_json_to_xml(std::string_view json) {
  if (json.starts_with("\xEF\xBB\xBF")) json.remove_prefix(3);
  Json root;
  RawNumberSax sax(root);
  const std::string text(json);
  bool ok = false;
  try {
    ok = Json::sax_parse(text, &sax);
  } catch (const Json::exception&) {
    ok = false;
  }
  if (!ok) return malformed(sax.error().empty() ? std::string("not JSON") : sax.error());
  if (!root.is_object()) return invalid("(root): expected a FHIR resource (a JSON object)");
  return XmlFromJson{}.run(root);
}

Result<std::string> fhir_xml_to_json(std::string_view xml) {
  auto decoded = decode_document(xml);
  if (!decoded) return decoded.error();
  auto tree = parse_xml_document(decoded->utf8);
  if (!tree) return tree.error();
  if (tree->ns != kFhirNs) return invalid("(root): not in the FHIR namespace");
  // What JSON cannot say the same way is refused, as the XML readers refuse it.
  if (auto form = check_fhir_xml_form(*tree); !form) return form.error();
  std::string out;
  write(resource_of(*tree), 0, out);
  out += '\n';
  return out;
}

}  // namespace sektorbro::adapters
