#include "adapters/fhir/fhir_acknowledgement.hpp"

#include <utility>

#include "adapters/fhir/fhir_xml_form.hpp"
#include "broker/xml/text_encoding.hpp"
#include "broker/xml/xml_builder.hpp"
#include "broker/xml/xml_document.hpp"

namespace sektorbro::adapters {
namespace {

constexpr std::string_view kAckProfile =
    "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement";
constexpr std::string_view kHeaderProfile =
    "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/"
    "medcom-messaging-acknowledgementHeader";
constexpr std::string_view kEventSystem =
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes";
constexpr std::string_view kActivitySystem =
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes";
constexpr std::string_view kEvent = "acknowledgement-message";

Error invalid(std::string path, std::string_view what) {
  return make_error(Errc::kInvalid, std::move(path) + ": " + std::string(what));
}

const XmlNode* fhir(const XmlNode* e, std::string_view name) {
  return e == nullptr ? nullptr : e->child(kFhirNamespace, name);
}

// The value attribute of a primitive child (<code value="ok"/>); "" if absent.
std::string value(const XmlNode* e, std::string_view name) {
  const XmlNode* c = fhir(e, name);
  if (c == nullptr) return {};
  const std::string* v = c->attribute("value");
  return v == nullptr ? std::string{} : *v;
}

struct Entry {
  std::string full_url;
  const XmlNode* resource = nullptr;  // the resource element (MessageHeader, ...)
  std::string id;
};

const Entry* resolve(const std::vector<Entry>& entries, std::string_view reference) {
  for (const auto& e : entries) {
    if (e.resource == nullptr) continue;
    const std::string local = e.resource->name + "/" + e.id;
    if (reference == e.full_url || reference == local ||
        (reference.ends_with("/" + local) && !local.empty()))
      return &e;
  }
  return nullptr;
}

FhirOrganization organization(const XmlNode& org) {
  FhirOrganization out;
  for (const XmlNode* id : org.all(kFhirNamespace, "identifier")) {
    const std::string system = value(id, "system");
    if (system == kGlnSystem) out.gln = value(id, "value");
    if (system == kSorSystem) out.sor = value(id, "value");
  }
  return out;
}

void primitive(XmlBuilder& w, std::string_view name, std::string_view v) {
  w.empty(name, {{"value", v}});
}

void reference(XmlBuilder& w, std::string_view name, std::string_view ref) {
  w.open(name);
  primitive(w, "reference", ref);
  w.close();
}

void meta(XmlBuilder& w, std::string_view profile) {
  w.open("meta");
  primitive(w, "profile", profile);
  w.close();
}

void org_entry(XmlBuilder& w, const std::string& id, const FhirOrganization& o) {
  w.open("entry");
  primitive(w, "fullUrl", "Organization/" + id);
  w.open("resource");
  w.open("Organization");
  primitive(w, "id", id);
  for (const auto& [system, v] : {std::pair{kGlnSystem, &o.gln}, std::pair{kSorSystem, &o.sor}}) {
    if (v->empty()) continue;
    w.open("identifier");
    primitive(w, "system", system);
    primitive(w, "value", *v);
    w.close();
  }
  w.close();
  w.close();
  w.close();
}

}  // namespace

std::string_view to_string(FhirAckCode c) {
  switch (c) {
    case FhirAckCode::kOk:
      return "ok";
    case FhirAckCode::kTransientError:
      return "transient-error";
    case FhirAckCode::kFatalError:
      return "fatal-error";
  }
  return "?";
}

std::optional<FhirAckCode> parse_fhir_ack_code(std::string_view s) {
  for (auto c : {FhirAckCode::kOk, FhirAckCode::kTransientError, FhirAckCode::kFatalError})
    if (to_string(c) == s) return c;
  return std::nullopt;
}

Result<FhirAcknowledgement> parse_fhir_acknowledgement(std::string_view bytes) {
  auto decoded = decode_document(bytes);
  if (!decoded) return decoded.error();
  auto tree = parse_xml_document(decoded->utf8);
  if (!tree) return tree.error();
  const XmlNode& root = *tree;
  if (root.name != "Bundle" || root.ns != kFhirNamespace)
    return make_error(Errc::kInvalid, "root element is not a FHIR Bundle");
  if (auto form = check_fhir_xml_form(root); !form) return form.error();
  if (value(&root, "type") != "message") return invalid("Bundle/type", "expected message");

  FhirAcknowledgement a;
  a.bundle_id = value(&root, "id");
  const std::string stamp = value(&root, "timestamp");
  if (auto t = parse_timestamp(stamp))
    a.timestamp = *t;
  else
    return invalid("Bundle/timestamp", "expected a dateTime with a zone");

  std::vector<Entry> entries;
  for (const XmlNode* e : root.all(kFhirNamespace, "entry")) {
    Entry entry;
    entry.full_url = value(e, "fullUrl");
    const XmlNode* res = fhir(e, "resource");
    if (res != nullptr && !res->children.empty()) {
      entry.resource = &res->children.front();
      entry.id = value(entry.resource, "id");
    }
    entries.push_back(std::move(entry));
  }
  if (entries.empty() || entries.front().resource == nullptr ||
      entries.front().resource->name != "MessageHeader" ||
      entries.front().resource->ns != kFhirNamespace)
    return invalid("Bundle/entry[1]", "expected a MessageHeader");
  const XmlNode* header = entries.front().resource;
  const std::string hpath = "Bundle/entry[1]/MessageHeader";
  a.header_id = entries.front().id;
  const std::string event = value(fhir(header, "eventCoding"), "code");
  // MedCom's own examples also spell it "acknowledgment-message".
  if (event != kEvent && event != "acknowledgment-message")
    return invalid(hpath + "/eventCoding/code", "expected acknowledgement-message");
  const XmlNode* response = fhir(header, "response");
  if (response == nullptr) return invalid(hpath + "/response", "missing");
  a.response_identifier = value(response, "identifier");
  if (a.response_identifier.empty()) return invalid(hpath + "/response/identifier", "missing");
  auto code = parse_fhir_ack_code(value(response, "code"));
  if (!code)
    return invalid(hpath + "/response/code", "expected ok, transient-error or fatal-error");
  a.code = *code;

  const XmlNode* destination = fhir(header, "destination");
  a.destination_endpoint = value(destination, "endpoint");
  a.source_endpoint = value(fhir(header, "source"), "endpoint");
  const auto org = [&](const XmlNode* holder, const std::string& path,
                       FhirOrganization& out) -> Result<void> {
    const std::string ref = value(holder, "reference");
    if (ref.empty()) return invalid(path + "/reference", "missing");
    const Entry* e = resolve(entries, ref);
    if (e == nullptr || e->resource->name != "Organization")
      return invalid(path + "/reference", "does not resolve to an Organization entry");
    out = organization(*e->resource);
    return {};
  };
  if (auto r = org(fhir(header, "sender"), hpath + "/sender", a.sender); !r) return r.error();
  if (auto r = org(fhir(destination, "receiver"), hpath + "/destination/receiver", a.receiver); !r)
    return r.error();

  const XmlNode* outcome = nullptr;
  if (const XmlNode* details = fhir(response, "details")) {
    const Entry* e = resolve(entries, value(details, "reference"));
    if (e == nullptr || e->resource->name != "OperationOutcome")
      return invalid(hpath + "/response/details/reference",
                     "does not resolve to an OperationOutcome entry");
    outcome = e->resource;
  }
  if (outcome != nullptr) {
    for (const XmlNode* issue : outcome->all(kFhirNamespace, "issue")) {
      FhirAckIssue i;
      i.severity = value(issue, "severity");
      i.code = value(issue, "code");
      const XmlNode* coding = fhir(fhir(issue, "details"), "coding");
      i.detail_system = value(coding, "system");
      i.detail_code = value(coding, "code");
      i.diagnostics = redact_cpr_like(value(issue, "diagnostics"));
      // An issue that says none of these says nothing (and could not be written: ele-1).
      if (i == FhirAckIssue{}) continue;
      a.issues.push_back(std::move(i));
    }
  }
  if (a.code != FhirAckCode::kOk && a.issues.empty())
    return invalid(hpath + "/response/details", "an error acknowledgement needs an issue");
  return a;
}

std::string write_fhir_acknowledgement(const FhirAcknowledgement& a) {
  const std::string sender_id = "sender-" + a.header_id;
  const std::string receiver_id = "receiver-" + a.header_id;
  const std::string outcome_id = "outcome-" + a.header_id;
  const std::string provenance_id = "provenance-" + a.header_id;
  const std::string when = format_timestamp(a.timestamp);
  XmlBuilder w(R"(<?xml version="1.0" encoding="UTF-8"?>)", true);
  w.open("Bundle", {{"xmlns", kFhirNamespace}});
  primitive(w, "id", a.bundle_id);
  meta(w, kAckProfile);
  primitive(w, "type", "message");
  primitive(w, "timestamp", when);

  w.open("entry");
  primitive(w, "fullUrl", "MessageHeader/" + a.header_id);
  w.open("resource");
  w.open("MessageHeader");
  primitive(w, "id", a.header_id);
  meta(w, kHeaderProfile);
  w.open("eventCoding");
  primitive(w, "system", kEventSystem);
  primitive(w, "code", kEvent);
  w.close();
  w.open("destination");
  if (!a.destination_endpoint.empty()) primitive(w, "endpoint", a.destination_endpoint);
  reference(w, "receiver", "Organization/" + receiver_id);
  w.close();
  reference(w, "sender", "Organization/" + sender_id);
  if (!a.source_endpoint.empty()) {  // only with content (FHIR's ele-1)
    w.open("source");
    primitive(w, "endpoint", a.source_endpoint);
    w.close();
  }
  w.open("response");
  primitive(w, "identifier", a.response_identifier);
  primitive(w, "code", to_string(a.code));
  if (!a.issues.empty()) reference(w, "details", "OperationOutcome/" + outcome_id);
  w.close();
  w.close();
  w.close();
  w.close();

  w.open("entry");
  primitive(w, "fullUrl", "Provenance/" + provenance_id);
  w.open("resource");
  w.open("Provenance");
  primitive(w, "id", provenance_id);
  reference(w, "target", "MessageHeader/" + a.header_id);
  primitive(w, "occurredDateTime", when);
  primitive(w, "recorded", when);
  w.open("activity");
  w.open("coding");
  primitive(w, "system", kActivitySystem);
  primitive(w, "code", "acknowledgement");
  w.close();
  w.close();
  w.open("agent");
  reference(w, "who", "Organization/" + sender_id);
  w.close();
  w.open("entity");
  primitive(w, "role", "revision");
  reference(w, "what", "MessageHeader/" + a.response_identifier);
  w.close();
  w.close();
  w.close();
  w.close();

  org_entry(w, sender_id, a.sender);
  org_entry(w, receiver_id, a.receiver);

  if (!a.issues.empty()) {
    w.open("entry");
    primitive(w, "fullUrl", "OperationOutcome/" + outcome_id);
    w.open("resource");
    w.open("OperationOutcome");
    primitive(w, "id", outcome_id);
    for (const auto& i : a.issues) {
      w.open("issue");
      primitive(w, "severity", i.severity);
      primitive(w, "code", i.code);
      if (!i.detail_code.empty() || !i.detail_system.empty()) {
        w.open("details");
        w.open("coding");
        if (!i.detail_system.empty()) primitive(w, "system", i.detail_system);
        if (!i.detail_code.empty()) primitive(w, "code", i.detail_code);
        w.close();
        w.close();
      }
      if (!i.diagnostics.empty()) primitive(w, "diagnostics", i.diagnostics);
      w.close();
    }
    w.close();
    w.close();
    w.close();
  }
  w.close();
  return w.finish();
}

}  // namespace sektorbro::adapters
