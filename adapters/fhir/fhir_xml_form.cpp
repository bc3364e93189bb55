#include "adapters/fhir/fhir_xml_form.hpp"

#include <string>

#include "adapters/fhir/fhir_acknowledgement.hpp"

namespace sektorbro::adapters {
namespace {

constexpr std::string_view kXhtmlNs = "http://www.w3.org/1999/xhtml";
constexpr std::string_view kXsiNs = "http://www.w3.org/2001/XMLSchema-instance";
constexpr std::size_t kMaxName = 64;

bool name_tail(std::string_view s) {
  if (s.empty() || s.size() > kMaxName) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

bool is_extension(std::string_view n) { return n == "extension" || n == "modifierExtension"; }

Error refused(const std::string& path, std::string_view what) {
  return make_error(Errc::kInvalid, path + ": " + std::string(what));
}

std::string step(const std::string& path, const XmlNode& e) {
  return path + "/" + (quotable_name(e.name) ? e.name : std::string("?"));
}

enum class Kind { kPrimitive, kComplex, kHolder };

bool is_holder(const XmlNode& e) {
  return e.children.size() == 1 && is_fhir_resource_name(e.children.front().name);
}

Kind kind_of(const XmlNode& e) {
  if (e.attribute("value") != nullptr) return Kind::kPrimitive;
  return is_holder(e) ? Kind::kHolder : Kind::kComplex;
}

Result<void> check(const XmlNode& e, bool resource, bool root, const std::string& path,
                   int depth);

Result<void> check_children(const XmlNode& e, bool resource, const std::string& path,
                            int depth) {
  if (!trim_space(e.text).empty()) return refused(path, "text inside a FHIR element");
  bool div_seen = false;
  for (std::size_t i = 0; i < e.children.size(); ++i) {
    const XmlNode& c = e.children[i];
    const std::string here = step(path, c);
    if (c.name == "div" || c.ns == kXhtmlNs) {
      if (c.name != "div" || c.ns != kXhtmlNs)
        return refused(here, "the narrative must be one XHTML div");
      if (div_seen) return refused(here, "more than one narrative div");
      div_seen = true;
      continue;
    }
    if (c.ns != kFhirNamespace) return refused(here, "an element outside the FHIR namespace");
    if (is_fhir_resource_name(c.name)) {
      if (resource || e.children.size() != 1 || !e.attributes.empty())
        return refused(here, "a resource must be the only child of the element holding it");
      if (auto r = check(c, true, false, here, depth + 1); !r) return r;
      continue;
    }
    if (!is_fhir_element_name(c.name)) return refused(here, "not a FHIR element name");
    if (c.name == "resourceType" || (!resource && c.name == "id") ||
        (c.name == "url" && is_extension(e.name) && !resource))
      return refused(here, "an element FHIR writes as an attribute");
    for (std::size_t j = 0; j < i; ++j)
      if (e.children[j].name == c.name && e.children[j].ns == c.ns &&
          kind_of(e.children[j]) != kind_of(c))
        return refused(here, "repeats as different kinds of element");
    if (auto r = check(c, false, false, here, depth + 1); !r) return r;
  }
  return {};
}

Result<void> check(const XmlNode& e, bool resource, bool root, const std::string& path,
                   int depth) {
  if (depth > 200) return refused(path, "nested too deep");
  if (resource) {
    for (const auto& a : e.attributes)
      if (!(root && a.ns == kXsiNs && a.name == "schemaLocation"))
        return refused(path, "an attribute on a resource");
    return check_children(e, true, path, depth);
  }
  const bool extension = is_extension(e.name);
  bool has_value = false;
  bool has_url = false;
  for (const auto& a : e.attributes) {
    const bool known = a.ns.empty() && (a.name == "id" || (a.name == "value" && !extension) ||
                                        (a.name == "url" && extension));
    if (!known) return refused(path, "an attribute FHIR does not have");
    has_value = has_value || a.name == "value";
    has_url = has_url || a.name == "url";
  }
  if (extension && !has_url) return refused(path, "an extension without its url");
  if (!has_value && e.children.empty())
    return refused(path, "an element with neither a value nor children (FHIR ele-1)");
  if (has_value)
    for (const auto& c : e.children)
      if (c.ns != kFhirNamespace || c.name != "extension")
        return refused(step(path, c), "a primitive holds only extensions");
  return check_children(e, false, path, depth);
}

}  // namespace

bool is_fhir_resource_name(std::string_view s) {
  return !s.empty() && s[0] >= 'A' && s[0] <= 'Z' && name_tail(s);
}

bool is_fhir_element_name(std::string_view s) {
  return !s.empty() && s[0] >= 'a' && s[0] <= 'z' && name_tail(s);
}

Result<void> check_fhir_xml_form(const XmlNode& root) {
  const std::string path = quotable_name(root.name) ? root.name : std::string("?");
  if (root.ns != kFhirNamespace || !is_fhir_resource_name(root.name))
    return refused(path, "the root is not a FHIR resource");
  return check(root, true, true, path, 0);
}

}  // namespace sektorbro::adapters
