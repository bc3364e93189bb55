#include "adapters/fhir/fhir_message.hpp"

#include <utility>

#include "adapters/fhir/fhir_xml_form.hpp"
#include "broker/xml/text_encoding.hpp"
#include "broker/xml/xml_builder.hpp"
#include "broker/xml/xml_document.hpp"

namespace sektorbro::adapters {
namespace {

constexpr std::string_view kEventSystem =
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes";
constexpr std::string_view kActivitySystem =
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes";
constexpr std::string_view kCategorySystem =
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-careCommunication-categoryCodes";
constexpr std::string_view kDestinationUseExtension =
    "http://medcomfhir.dk/ig/messaging/StructureDefinition/"
    "medcom-messaging-destinationUseExtension";
constexpr std::string_view kDestinationUseSystem =
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-destinationUse";
constexpr std::string_view kActCodeSystem = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

Error invalid(std::string path, std::string_view what) {
  return make_error(Errc::kInvalid, std::move(path) + ": " + std::string(what));
}

const XmlNode* fhir(const XmlNode* e, std::string_view name) {
  return e == nullptr ? nullptr : e->child(kFhirNamespace, name);
}

std::string value(const XmlNode* e, std::string_view name) {
  const XmlNode* c = fhir(e, name);
  if (c == nullptr) return {};
  const std::string* v = c->attribute("value");
  return v == nullptr ? std::string{} : *v;
}

struct Entry {
  std::string full_url;
  const XmlNode* resource = nullptr;
  std::string id;
};

const Entry* resolve(const std::vector<Entry>& entries, std::string_view reference) {
  if (reference.empty()) return nullptr;
  for (const auto& e : entries) {
    if (e.resource == nullptr) continue;
    const std::string local = e.resource->name + "/" + e.id;
    if (reference == e.full_url || reference == local ||
        (!e.id.empty() && reference.ends_with("/" + local)))
      return &e;
  }
  return nullptr;
}

FhirParty party(const XmlNode& org) {
  FhirParty out;
  for (const XmlNode* id : org.all(kFhirNamespace, "identifier")) {
    const std::string system = value(id, "system");
    if (system == kGlnSystem) out.gln = value(id, "value");
    if (system == kSorSystem) out.sor = value(id, "value");
  }
  out.name = value(&org, "name");
  return out;
}

FhirPatient patient(const XmlNode& p) {
  FhirPatient out;
  for (const XmlNode* id : p.all(kFhirNamespace, "identifier"))
    if (value(id, "system") == kCprSystem) out.cpr = value(id, "value");
  for (const XmlNode* n : p.all(kFhirNamespace, "name")) {
    const std::string use = value(n, "use");
    if (!use.empty() && use != "official") continue;
    out.family = value(n, "family");
    for (const XmlNode* g : n->all(kFhirNamespace, "given")) {
      const std::string* v = g->attribute("value");
      if (v == nullptr) continue;
      if (!out.given.empty()) out.given.push_back(' ');
      out.given.append(*v);
    }
    break;
  }
  if (const XmlNode* a = fhir(&p, "address")) {
    int n = 0;
    for (const XmlNode* l : a->all(kFhirNamespace, "line")) {
      const std::string* v = l->attribute("value");
      if (v == nullptr) continue;
      if (n++ == 0) {
        out.line = *v;
      } else {
        if (!out.suburb.empty()) out.suburb += ", ";
        out.suburb += *v;
      }
    }
    out.city = value(a, "city");
    out.postal_code = value(a, "postalCode");
  }
  return out;
}

// Writing ------------------------------------------------------------------------------------

void primitive(XmlBuilder& w, std::string_view name, std::string_view v) {
  if (!v.empty()) w.empty(name, {{"value", v}});
}

void reference(XmlBuilder& w, std::string_view name, std::string_view ref) {
  w.open(name);
  w.empty("reference", {{"value", ref}});
  w.close();
}

void coding(XmlBuilder& w, std::string_view name, std::string_view system, std::string_view code) {
  w.open(name);
  primitive(w, "system", system);
  primitive(w, "code", code);
  w.close();
}

void identifier(XmlBuilder& w, std::string_view system, std::string_view v) {
  if (v.empty()) return;
  w.open("identifier");
  primitive(w, "system", system);
  primitive(w, "value", v);
  w.close();
}

void open_entry(XmlBuilder& w, std::string_view type, const std::string& id) {
  w.open("entry");
  primitive(w, "fullUrl", std::string(type) + "/" + id);
  w.open("resource");
  w.open(type);
  primitive(w, "id", id);
}

void close_entry(XmlBuilder& w) {
  w.close();
  w.close();
  w.close();
}

void organization(XmlBuilder& w, const std::string& id, const FhirParty& p) {
  open_entry(w, "Organization", id);
  identifier(w, kSorSystem, p.sor);
  identifier(w, kGlnSystem, p.gln);
  primitive(w, "name", p.name);
  close_entry(w);
}

}  // namespace

std::string fhir_event_of(std::string_view bytes) {
  auto decoded = decode_document(bytes);
  if (!decoded) return {};
  auto tree = parse_xml_document(decoded->utf8);
  if (!tree || tree->name != "Bundle" || tree->ns != kFhirNamespace) return {};
  const XmlNode* entry = fhir(&*tree, "entry");
  const XmlNode* res = fhir(entry, "resource");
  const XmlNode* header = fhir(res, "MessageHeader");
  return value(fhir(header, "eventCoding"), "code");
}

Result<FhirMessage> parse_fhir_message(std::string_view bytes) {
  auto decoded = decode_document(bytes);
  if (!decoded) return decoded.error();
  auto tree = parse_xml_document(decoded->utf8);
  if (!tree) return tree.error();
  const XmlNode& root = *tree;
  if (root.name != "Bundle" || root.ns != kFhirNamespace)
    return make_error(Errc::kInvalid, "root element is not a FHIR Bundle");
  if (auto form = check_fhir_xml_form(root); !form) return form.error();
  if (value(&root, "type") != "message") return invalid("Bundle/type", "expected message");

  FhirMessage m;
  m.bundle_id = value(&root, "id");
  if (m.bundle_id.empty()) return invalid("Bundle/id", "missing");
  if (auto t = parse_timestamp(value(&root, "timestamp")))
    m.timestamp = *t;
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
  m.header_id = entries.front().id;
  if (m.header_id.empty()) return invalid(hpath + "/id", "missing");
  m.event = value(fhir(header, "eventCoding"), "code");
  if (m.event.empty()) return invalid(hpath + "/eventCoding/code", "missing");

  const auto org = [&](const XmlNode* holder, const std::string& path,
                       FhirParty& out) -> Result<void> {
    const std::string ref = value(holder, "reference");
    if (ref.empty()) return invalid(path + "/reference", "missing");
    const Entry* e = resolve(entries, ref);
    if (e == nullptr || e->resource->name != "Organization")
      return invalid(path + "/reference", "does not resolve to an Organization entry");
    out = party(*e->resource);
    return {};
  };
  const XmlNode* destination = fhir(header, "destination");
  m.destination_endpoint = value(destination, "endpoint");
  m.source_endpoint = value(fhir(header, "source"), "endpoint");
  if (auto r = org(fhir(header, "sender"), hpath + "/sender", m.sender); !r) return r.error();
  if (auto r = org(fhir(destination, "receiver"), hpath + "/destination/receiver", m.receiver); !r)
    return r.error();

  const Entry* focus = resolve(entries, value(fhir(header, "focus"), "reference"));
  const std::string fpath = hpath + "/focus";
  if (m.event == kEventCareCommunication) {
    if (focus == nullptr || focus->resource->name != "Communication")
      return invalid(fpath, "does not resolve to a Communication entry");
    const XmlNode* c = focus->resource;
    m.category = value(fhir(fhir(c, "category"), "coding"), "code");
    m.topic = value(fhir(c, "topic"), "text");
    m.priority = value(c, "priority");
    for (const XmlNode* p : c->all(kFhirNamespace, "payload")) {
      FhirPayload payload;
      payload.text = value(p, "contentString");
      if (const XmlNode* a = fhir(p, "contentAttachment")) {
        payload.content_type = value(a, "contentType");
        payload.title = value(a, "title");
        payload.url = value(a, "url");
      }
      m.payloads.push_back(std::move(payload));
    }
    if (const Entry* p = resolve(entries, value(fhir(c, "subject"), "reference")))
      m.patient = patient(*p->resource);
  } else if (m.event == kEventHospitalNotification) {
    if (focus == nullptr || focus->resource->name != "Encounter")
      return invalid(fpath, "does not resolve to an Encounter entry");
    const XmlNode* e = focus->resource;
    m.encounter_status = value(e, "status");
    m.encounter_class = value(fhir(e, "class"), "code");
    m.period_start = value(fhir(e, "period"), "start");
    m.period_end = value(fhir(e, "period"), "end");
    if (const Entry* p = resolve(entries, value(fhir(e, "subject"), "reference")))
      m.patient = patient(*p->resource);
  }
  for (const auto& e : entries) {
    if (e.resource == nullptr || e.resource->name != "Provenance") continue;
    FhirProvenance p;
    p.target = value(fhir(e.resource, "target"), "reference");
    p.occurred = value(e.resource, "occurredDateTime");
    p.activity = value(fhir(fhir(e.resource, "activity"), "coding"), "code");
    for (const XmlNode* en : e.resource->all(kFhirNamespace, "entity"))
      p.entities.push_back(value(fhir(en, "what"), "reference"));
    m.provenances.push_back(std::move(p));
  }
  return m;
}

std::string write_fhir_message(const FhirMessage& m) {
  const std::string sender_id = "sender-" + m.header_id;
  const std::string receiver_id = "receiver-" + m.header_id;
  const std::string patient_id = "patient-" + m.header_id;
  const std::string focus_id = "focus-" + m.header_id;
  const bool care = m.event == kEventCareCommunication;
  XmlBuilder w(R"(<?xml version="1.0" encoding="UTF-8"?>)", true);
  w.open("Bundle", {{"xmlns", kFhirNamespace}});
  primitive(w, "id", m.bundle_id);
  primitive(w, "type", "message");
  primitive(w, "timestamp", format_timestamp(m.timestamp));

  open_entry(w, "MessageHeader", m.header_id);
  coding(w, "eventCoding", kEventSystem, m.event);
  w.open("destination");
  w.open("extension", {{"url", kDestinationUseExtension}});
  coding(w, "valueCoding", kDestinationUseSystem, "primary");
  w.close();
  primitive(w, "endpoint", m.destination_endpoint);
  reference(w, "receiver", "Organization/" + receiver_id);
  w.close();
  reference(w, "sender", "Organization/" + sender_id);
  // An element is written only with content (FHIR's ele-1; fhir_xml_form refuses empty ones).
  if (!m.source_endpoint.empty()) {
    w.open("source");
    primitive(w, "endpoint", m.source_endpoint);
    w.close();
  }
  reference(w, "focus", std::string(care ? "Communication/" : "Encounter/") + focus_id);
  close_entry(w);

  open_entry(w, "Patient", patient_id);
  identifier(w, kCprSystem, m.patient.cpr);
  if (!m.patient.family.empty() || !m.patient.given.empty()) {
    w.open("name");
    primitive(w, "use", "official");
    primitive(w, "family", m.patient.family);
    primitive(w, "given", m.patient.given);
    w.close();
  }
  if (!m.patient.line.empty() || !m.patient.suburb.empty() || !m.patient.city.empty() ||
      !m.patient.postal_code.empty()) {
    w.open("address");
    primitive(w, "line", m.patient.line);
    primitive(w, "line", m.patient.suburb);
    primitive(w, "city", m.patient.city);
    primitive(w, "postalCode", m.patient.postal_code);
    w.close();
  }
  close_entry(w);

  if (care) {
    open_entry(w, "Communication", focus_id);
    primitive(w, "status", "unknown");
    w.open("category");
    coding(w, "coding", kCategorySystem, m.category);
    w.close();
    primitive(w, "priority", m.priority);
    reference(w, "subject", "Patient/" + patient_id);
    if (!m.topic.empty()) {
      w.open("topic");
      primitive(w, "text", m.topic);
      w.close();
    }
    for (const auto& p : m.payloads) {
      if (p.content_type.empty() && p.url.empty() && p.title.empty() && p.text.empty()) continue;
      w.open("payload");
      if (!p.content_type.empty() || !p.url.empty() || !p.title.empty()) {
        w.open("contentAttachment");
        primitive(w, "contentType", p.content_type);
        primitive(w, "url", p.url);
        primitive(w, "title", p.title);
        w.close();
      } else {
        primitive(w, "contentString", p.text);
      }
      w.close();
    }
    close_entry(w);
  } else {
    open_entry(w, "Encounter", focus_id);
    primitive(w, "status", m.encounter_status);
    coding(w, "class", kActCodeSystem, m.encounter_class);
    reference(w, "subject", "Patient/" + patient_id);
    if (!m.period_start.empty() || !m.period_end.empty()) {
      w.open("period");
      primitive(w, "start", m.period_start);
      primitive(w, "end", m.period_end);
      w.close();
    }
    reference(w, "serviceProvider", "Organization/" + sender_id);
    close_entry(w);
  }
  organization(w, receiver_id, m.receiver);
  organization(w, sender_id, m.sender);
  for (std::size_t i = 0; i < m.provenances.size(); ++i) {
    const FhirProvenance& p = m.provenances[i];
    open_entry(w, "Provenance", "provenance-" + std::to_string(i + 1) + "-" + m.header_id);
    reference(w, "target", p.target);
    primitive(w, "occurredDateTime", p.occurred);
    primitive(w, "recorded", p.occurred);
    w.open("activity");
    coding(w, "coding", kActivitySystem, p.activity);
    w.close();
    w.open("agent");
    reference(w, "who", "Organization/" + sender_id);
    w.close();
    for (const auto& e : p.entities) {
      w.open("entity");
      primitive(w, "role", "revision");
      reference(w, "what", e);
      w.close();
    }
    close_entry(w);
  }
  w.close();
  return w.finish();
}

}  // namespace sektorbro::adapters
