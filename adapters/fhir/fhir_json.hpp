// MedCom FHIR messages arrive as application/fhir+json as well as application/fhir+xml (issue
// 9). FHIR R4 defines one model with two representations (hl7.org/fhir/R4/json.html and
// xml.html); this module maps between them by those rules, so the FHIR XML adapters
// (fhir_message, fhir_acknowledgement) read and write both without a second model:
//
//   JSON                                   XML
//   {"resourceType": "X", …}               <X xmlns="http://hl7.org/fhir">…</X>
//   "name": "v" (string, number, bool)     <name value="v"/>
//   "_name": {"id": …, "extension": […]}   id attribute and extension children of <name>
//   "name": [a, b] (+ "_name": [..])       <name …/><name …/> (nulls pair the two arrays)
//   "name": {…}                            <name>…</name>; its "id" is an attribute, and an
//                                          extension's "url" too; a resource's "id" is a child
//   "resource": {"resourceType": "X", …}   <resource><X>…</X></resource> (also contained, …)
//   "div": "<div xmlns=…>…</div>"           the XHTML element itself
//
// JSON → XML needs no knowledge of the model. XML → JSON needs each element's cardinality
// (an array or not) and a primitive's JSON type (string, number, boolean): the table in
// fhir_json.cpp covers the elements of the MedCom messages Sektorbro carries
// (CareCommunication, HospitalNotification, Acknowledgement) and FHIR R4's general rules
// for the rest. A decimal keeps its digits on the way JSON → XML; a JSON number is written
// as parsed (1.50 stays 1.50).
//
// Pure; any thread. Errors never quote content (a CPR number may be anywhere in a message).
#pragma once

#include <string>
#include <string_view>

#include "broker/core/result.hpp"

namespace sektorbro::adapters {

// Whether the bytes look like a JSON document (after an optional UTF-8 BOM and whitespace, the
// first character is '{'): the broker reads such a body as FHIR JSON.
bool looks_like_json(std::string_view bytes);

// A FHIR JSON resource (UTF-8) as FHIR XML (UTF-8, with declaration). kMalformed when the bytes
// are not JSON (or nest deeper than the XML layer allows), kInvalid when the JSON is not a FHIR
// resource (no resourceType, a property that is neither primitive, object nor array of them,
// a div that is not one XHTML element).
Result<std::string> fhir_json_to_xml(std::string_view json);

// A FHIR XML resource as FHIR JSON (UTF-8, two-space indented). kMalformed when the bytes are
// not XML, kInvalid when the root is not in the FHIR namespace.
Result<std::string> fhir_xml_to_json(std::string_view xml);

}  // namespace sektorbro::adapters
