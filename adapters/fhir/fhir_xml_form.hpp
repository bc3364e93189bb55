// FHIR R4's XML representation rules (hl7.org/fhir/R4/xml.html), checked on a parsed document
// before any FHIR reader takes a value from it. Both representations of a MedCom message must
// read as the same message (fhir_json.hpp), so what the XML form can say but the JSON form
// cannot — and what FHIR itself does not allow — is refused here, on the XML path, exactly as the
// JSON path refuses it; nothing is dropped quietly on the way XML → JSON → XML:
//
//   - every element outside the narrative is in the FHIR namespace, and has a FHIR name: a
//     resource starts with an upper-case letter and is the only child of the element holding it
//     (entry.resource, contained, …; the holder has no attributes), any other element starts
//     with a lower-case letter; letters, digits and '_' only (so `<syst-em>` is refused);
//   - attributes: `value` and `id` on elements, `url` on extension / modifierExtension (which
//     must have it and no `value`); a resource has none (its id is a child) — except
//     `xsi:schemaLocation` on the root, which is no content;
//   - no text in FHIR elements; an element with a `value` has only extension children; every
//     element has a value or children (FHIR's ele-1); an element not a resource has no `id`,
//     `resourceType` (and an extension no `url`) child, as those are attributes or JSON keys;
//   - siblings of one name are all primitives, all complex or all resource holders (one JSON
//     array holds them);
//   - the narrative: an element named `div` is XHTML and is the only `div` of its parent.
//
// Pure; any thread. Errors (kInvalid) name the place by element names that are safe to quote
// (quotable_name), never values.
#pragma once

#include <string_view>

#include "broker/core/result.hpp"
#include "broker/xml/xml_document.hpp"

namespace sektorbro::adapters {

// A FHIR resource type name (JSON resourceType, XML resource element): [A-Z][A-Za-z0-9_]*.
bool is_fhir_resource_name(std::string_view s);
// A FHIR element (JSON property) name: [a-z][A-Za-z0-9_]*.
bool is_fhir_element_name(std::string_view s);

// The document (its root a FHIR resource) follows the rules above.
Result<void> check_fhir_xml_form(const XmlNode& root);

}  // namespace sektorbro::adapters
