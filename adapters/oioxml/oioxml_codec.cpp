#include "adapters/oioxml/oioxml_codec.hpp"

#include <utility>

#include "broker/xml/xml_builder.hpp"
#include "broker/xml/formatted_text.hpp"
#include "broker/xml/xml_document.hpp"
#include "broker/core/copenhagen_time.hpp"
#include "broker/core/identifiers.hpp"

namespace sektorbro::adapters {
namespace {

// A line of only whitespace becomes empty. The XML parser drops whitespace-only text between
// two breaks, so without this a text read from raw newlines would not read back the same after
// it is written with <br/> breaks (found by fuzz_oioxml).
std::string blank_lines_emptied(std::string text) {
  std::string out;
  out.reserve(text.size());
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t nl = std::min(text.find('\n', start), text.size());
    const std::string_view line(text.data() + start, nl - start);
    if (!trim_space(line).empty()) out.append(line);
    if (nl == text.size()) break;
    out.push_back('\n');
    start = nl + 1;
  }
  return out;
}

constexpr std::string_view kPlus = "pluspositivkvitt";
constexpr std::string_view kMinus = "minuspositivkvitt";

struct KindName {
  OioxmlLetterKind kind;
  std::string_view name;
};
constexpr KindName kKindNames[] = {
    {OioxmlLetterKind::kClinicalEmail, "ClinicalEmail"},
    {OioxmlLetterKind::kPositiveReceipt, "PositiveReceipt"},
    {OioxmlLetterKind::kNegativeReceipt, "NegativeReceipt"},
    {OioxmlLetterKind::kNegativeVansReceipt, "NegativeVansReceipt"},
};

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

// "YYYY/MM/DD/" after the prefix.
bool is_dated_namespace(std::string_view ns) {
  if (!ns.starts_with(kOioxmlNamespacePrefix)) return false;
  const std::string_view rest = ns.substr(kOioxmlNamespacePrefix.size());
  return rest.size() == 11 && all_digits(rest.substr(0, 4)) && rest[4] == '/' &&
         all_digits(rest.substr(5, 2)) && rest[7] == '/' && all_digits(rest.substr(8, 2)) &&
         rest[10] == '/';
}

// Reads values out of the tree under one namespace. The first error wins; reads after it
// return empty values, so the code reads straight through and checks once.
class Reader {
 public:
  explicit Reader(std::string ns) : ns_(std::move(ns)) {}

  bool ok() const { return !error_.has_value(); }
  Error take_error() { return std::move(*error_); }

  void fail(const std::string& path, std::string_view what) {
    if (error_) return;
    error_ = make_error(Errc::kInvalid, path + ": " + std::string(what));
  }

  const XmlNode* child(const XmlNode* e, std::string_view name, const std::string& path,
                       bool required) {
    if (e == nullptr || !ok()) return nullptr;
    const XmlNode* c = e->child(ns_, name);
    if (c == nullptr && required) fail(path + "/" + std::string(name), "missing");
    return c;
  }

  // Trimmed text of an optional leaf; "" if absent.
  std::string text(const XmlNode* e, std::string_view name) {
    if (e == nullptr || !ok()) return {};
    const XmlNode* c = e->child(ns_, name);
    return c == nullptr ? std::string{} : std::string(trim_space(c->text));
  }

  std::string required_text(const XmlNode* e, std::string_view name, const std::string& path) {
    const XmlNode* c = child(e, name, path, true);
    if (c == nullptr) return {};
    std::string v(trim_space(c->text));
    if (v.empty()) fail(path + "/" + std::string(name), "empty");
    return v;
  }

  std::string id(const XmlNode* e, std::string_view name, const std::string& path) {
    std::string v = required_text(e, name, path);
    if (ok() && v.size() > 14) fail(path + "/" + std::string(name), "longer than 14 characters");
    return v;
  }

  std::optional<TimePoint> date_time(const XmlNode* e, const std::string& path) {
    const std::string date = required_text(e, "Date", path);
    const std::string time = required_text(e, "Time", path);
    if (!ok()) return std::nullopt;
    auto t = parse_oioxml_date_time(date, time);
    if (!t) fail(path, "expected Date YYYY-MM-DD and Time HH:MM");
    return t;
  }

  PostalAddress address(const XmlNode* e) {
    PostalAddress a;
    a.street = text(e, "StreetName");
    a.suburb = text(e, "SuburbName");
    a.district = text(e, "DistrictName");
    a.post_code = text(e, "PostCodeIdentifier");
    return a;
  }

  // MedCom's EANIdentifierType is a string of 1–35 characters: usually a GLN, but the VANS
  // network's own receipts use other identifiers, so no GS1 check here (the native conversion
  // decides what it can route).
  OioxmlParty party(const XmlNode* e, const std::string& path) {
    OioxmlParty p;
    if (e == nullptr) return p;
    p.ean = required_text(e, "EANIdentifier", path);
    if (ok() && p.ean.size() > 35) fail(path + "/EANIdentifier", "longer than 35 characters");
    p.identifier = text(e, "Identifier");
    p.identifier_code = text(e, "IdentifierCode");
    p.organisation_name = text(e, "OrganisationName");
    p.department_name = text(e, "DepartmentName");
    p.unit_name = text(e, "UnitName");
    p.address = address(e);
    p.phone = text(e, "TelephoneSubscriberIdentifier");
    p.speciality_code = text(e, "MedicalSpecialityCode");
    return p;
  }

  AttachmentReference reference(const XmlNode& e, const std::string& path) {
    AttachmentReference r;
    r.description = required_text(&e, "RefDescription", path);
    r.url = text(&e, "URL");
    r.sup = text(&e, "SUP") == "true";
    if (const XmlNode* bin = child(&e, "BIN", path, false)) {
      const std::string bpath = path + "/BIN";
      r.object_id = required_text(bin, "ObjectIdentifier", bpath);
      r.object_code = required_text(bin, "ObjectCode", bpath);
      r.extension_code = required_text(bin, "ObjectExtensionCode", bpath);
      const std::string size = required_text(bin, "OriginalObjectSize", bpath);
      if (ok() && (size.size() > 18 || !all_digits(size) || size.find_first_not_of('0') ==
                                                                 std::string::npos))
        fail(bpath + "/OriginalObjectSize", "expected a positive whole number");
      if (ok()) r.size = std::stoull(size);
    }
    const int kinds = (r.url.empty() ? 0 : 1) + (r.sup ? 1 : 0) + (r.object_id.empty() ? 0 : 1);
    if (ok() && kinds != 1) fail(path, "expected one of URL, SUP or BIN");
    return r;
  }

  OioxmlOriginal original(const XmlNode* e, const std::string& path) {
    OioxmlOriginal o;
    if (e == nullptr) return o;
    o.envelope_id = id(e, "OriginalEnvelopeIdentifier", path);
    o.sender = party(child(e, "OriginalSender", path, true), path + "/OriginalSender");
    o.receiver = party(child(e, "OriginalReceiver", path, true), path + "/OriginalReceiver");
    o.refuse_code = text(e, "RefuseCode");
    if (const XmlNode* t = child(e, "RefuseText", path, false))
      o.refuse_text = std::string(trim_space(blank_lines_emptied(text_with_breaks(*t, "Break"))));
    std::size_t n = 0;
    for (const XmlNode* l : e->all(ns_, "OriginalLetter")) {
      const std::string lpath = path + "/OriginalLetter[" + std::to_string(++n) + "]";
      OioxmlOriginalLetter ol;
      ol.letter_id = id(l, "OriginalLetterIdentifier", lpath);
      ol.version_code = text(l, "OriginalVersionCode");
      ol.refuse_code = text(l, "RefuseCode");
      if (const XmlNode* t = child(l, "RefuseText", lpath, false))
        ol.refuse_text =
            std::string(trim_space(blank_lines_emptied(text_with_breaks(*t, "Break"))));
      o.letters.push_back(std::move(ol));
    }
    return o;
  }

  OioxmlLetter letter(const XmlNode& e, const std::string& path) {
    OioxmlLetter l;
    l.element = e.name;
    for (const auto& kn : kKindNames)
      if (kn.name == e.name) l.kind = kn.kind;
    const XmlNode* head = child(&e, "Letter", path, true);
    const std::string hpath = path + "/Letter";
    l.id = id(head, "Identifier", hpath);
    l.version_code = text(head, "VersionCode");
    l.statistical_code = text(head, "StatisticalCode");
    if (const XmlNode* a = child(head, "Authorisation", hpath, false))
      l.authorised = date_time(a, hpath + "/Authorisation");
    l.type_code = text(head, "TypeCode");
    l.status_code = text(head, "StatusCode");
    l.episode_of_care_id = text(head, "EpisodeOfCareIdentifier");
    l.sender = party(child(&e, "Sender", path, true), path + "/Sender");
    l.receiver = party(child(&e, "Receiver", path, true), path + "/Receiver");
    if (const XmlNode* p = child(&e, "Patient", path, false)) {
      l.patient_cpr = text(p, "CivilRegistrationNumber");
      l.patient_surname = text(p, "PersonSurnameName");
      l.patient_given_name = text(p, "PersonGivenName");
      l.patient_address = address(p);
      l.patient_occupancy = text(p, "OccupancyText");
      l.episode_of_care_status = text(p, "EpisodeOfCareStatusCode");
    }
    if (const XmlNode* a = child(&e, "AdditionalInformation", path, false)) {
      l.priority = text(a, "Priority");
      l.subject = text(a, "Subject");
    }
    std::size_t block = 0;
    for (const XmlNode* c : e.all(ns_, "ClinicalInformation")) {
      const std::string cpath = path + "/ClinicalInformation[" + std::to_string(++block) + "]";
      for (const auto& t : c->children) {
        if (!ok() || t.ns != ns_ || !t.name.starts_with("Text")) continue;
        auto fragment = formatted_text_from(t, ns_);
        if (!fragment) {
          fail(cpath + "/Text", fragment.error().detail);
          continue;
        }
        l.formatted_text.push_back(std::move(*fragment));
      }
    }
    l.text = plain_text_of_blocks(l.formatted_text);
    std::size_t nref = 0;
    for (const XmlNode* ref : e.all(ns_, "Reference"))
      l.references.push_back(reference(*ref, path + "/Reference[" + std::to_string(++nref) + "]"));
    if (is_receipt(l.kind))
      l.original = original(child(&e, "OriginalEmessage", path, true), path + "/OriginalEmessage");
    return l;
  }

 private:
  std::string ns_;
  std::optional<Error> error_;
};

void optional_leaf(XmlBuilder& w, std::string_view name, const std::string& value) {
  if (!value.empty()) w.leaf(name, value);
}

void write_address(XmlBuilder& w, const PostalAddress& a) {
  optional_leaf(w, "StreetName", a.street);
  optional_leaf(w, "SuburbName", a.suburb);
  optional_leaf(w, "DistrictName", a.district);
  optional_leaf(w, "PostCodeIdentifier", a.post_code);
}

// In the order of MedCom's SenderType / ReceiverType.
void write_party(XmlBuilder& w, std::string_view name, const OioxmlParty& p) {
  w.open(name);
  w.leaf("EANIdentifier", p.ean);
  optional_leaf(w, "Identifier", p.identifier);
  optional_leaf(w, "IdentifierCode", p.identifier_code);
  optional_leaf(w, "OrganisationName", p.organisation_name);
  optional_leaf(w, "DepartmentName", p.department_name);
  optional_leaf(w, "UnitName", p.unit_name);
  write_address(w, p.address);
  optional_leaf(w, "TelephoneSubscriberIdentifier", p.phone);
  optional_leaf(w, "MedicalSpecialityCode", p.speciality_code);
  w.close();
}

void write_reference(XmlBuilder& w, const AttachmentReference& r) {
  w.open("Reference");
  w.leaf("RefDescription", r.description);
  if (!r.url.empty()) {
    w.leaf("URL", r.url);
  } else if (r.sup) {
    w.leaf("SUP", "true");
  } else {
    w.open("BIN");
    w.leaf("ObjectIdentifier", r.object_id);
    w.leaf("ObjectCode", r.object_code);
    w.leaf("ObjectExtensionCode", r.extension_code);
    w.leaf("OriginalObjectSize", std::to_string(r.size));
    w.close();
  }
  w.close();
}

void write_refusal(XmlBuilder& w, const std::string& code, const std::string& text) {
  if (!code.empty()) w.leaf("RefuseCode", code);
  if (!text.empty()) w.leaf_with_breaks("RefuseText", text, "Break");
}

void write_original(XmlBuilder& w, const OioxmlOriginal& o) {
  w.open("OriginalEmessage");
  w.leaf("OriginalEnvelopeIdentifier", o.envelope_id);
  write_party(w, "OriginalSender", o.sender);
  write_party(w, "OriginalReceiver", o.receiver);
  write_refusal(w, o.refuse_code, o.refuse_text);
  for (const auto& l : o.letters) {
    w.open("OriginalLetter");
    w.leaf("OriginalLetterIdentifier", l.letter_id);
    if (!l.version_code.empty()) w.leaf("OriginalVersionCode", l.version_code);
    write_refusal(w, l.refuse_code, l.refuse_text);
    w.close();
  }
  w.close();
}

void write_letter(XmlBuilder& w, const OioxmlLetter& l) {
  const std::string_view name =
      l.kind == OioxmlLetterKind::kOther ? std::string_view(l.element) : element_name(l.kind);
  w.open(name);
  w.open("Letter");
  w.leaf("Identifier", l.id);
  if (!l.version_code.empty()) w.leaf("VersionCode", l.version_code);
  if (!l.statistical_code.empty()) w.leaf("StatisticalCode", l.statistical_code);
  if (l.authorised) {
    w.open("Authorisation");
    w.leaf("Date", format_oioxml_date(*l.authorised));
    w.leaf("Time", format_oioxml_time(*l.authorised));
    w.close();
  }
  if (!l.type_code.empty()) w.leaf("TypeCode", l.type_code);
  if (!l.status_code.empty()) w.leaf("StatusCode", l.status_code);
  optional_leaf(w, "EpisodeOfCareIdentifier", l.episode_of_care_id);
  w.close();
  write_party(w, "Sender", l.sender);
  write_party(w, "Receiver", l.receiver);
  if (!l.patient_cpr.empty() || !l.patient_surname.empty() || !l.patient_given_name.empty() ||
      !l.patient_address.empty() || !l.patient_occupancy.empty() ||
      !l.episode_of_care_status.empty()) {
    w.open("Patient");
    optional_leaf(w, "CivilRegistrationNumber", l.patient_cpr);
    optional_leaf(w, "PersonSurnameName", l.patient_surname);
    optional_leaf(w, "PersonGivenName", l.patient_given_name);
    write_address(w, l.patient_address);
    optional_leaf(w, "OccupancyText", l.patient_occupancy);
    optional_leaf(w, "EpisodeOfCareStatusCode", l.episode_of_care_status);
    w.close();
  }
  if (!l.priority.empty() || !l.subject.empty()) {
    w.open("AdditionalInformation");
    if (!l.priority.empty()) w.leaf("Priority", l.priority);
    if (!l.subject.empty()) w.leaf("Subject", l.subject);
    w.close();
  }
  // Formatted text as read (Break, FixedFont, ...); plain text with its line feeds as <Break/>,
  // the element MedCom's FormattedText allows (its sample's <br/> is read, never written).
  if (!l.formatted_text.empty()) {
    for (const auto& fragment : l.formatted_text) {
      w.open("ClinicalInformation");
      w.leaf_markup("Text01", fragment);
      w.close();
    }
  } else if (!l.text.empty()) {
    w.open("ClinicalInformation");
    w.leaf_markup("Text01", formatted_text_of_plain(l.text));
    w.close();
  }
  for (const auto& r : l.references) write_reference(w, r);
  if (l.original) write_original(w, *l.original);
  w.close();
}

}  // namespace

std::string_view element_name(OioxmlLetterKind k) {
  for (const auto& kn : kKindNames)
    if (kn.kind == k) return kn.name;
  return {};
}

std::string format_oioxml_date(TimePoint t) { return format_date(copenhagen_date(t)); }

std::string format_oioxml_time(TimePoint t) {
  const auto local = t + copenhagen_offset(t);
  const auto day = std::chrono::floor<std::chrono::days>(local);
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(local - day).count();
  std::string out(5, ':');
  out[0] = static_cast<char>('0' + minutes / 600);
  out[1] = static_cast<char>('0' + (minutes / 60) % 10);
  out[3] = static_cast<char>('0' + (minutes % 60) / 10);
  out[4] = static_cast<char>('0' + minutes % 10);
  return out;
}

std::optional<TimePoint> parse_oioxml_date_time(std::string_view date, std::string_view time) {
  const auto d = parse_date(date);
  if (!d || time.size() != 5 || time[2] != ':' || !all_digits(time.substr(0, 2)) ||
      !all_digits(time.substr(3, 2)))
    return std::nullopt;
  const int hh = (time[0] - '0') * 10 + (time[1] - '0');
  const int mm = (time[3] - '0') * 10 + (time[4] - '0');
  if (hh > 23 || mm > 59) return std::nullopt;
  const TimePoint local =
      std::chrono::sys_days(*d) + std::chrono::hours(hh) + std::chrono::minutes(mm);
  // Try summer time first (the earlier instant of the doubled autumn hour), then winter time;
  // an offset is right when it is the one in force at the instant it gives.
  for (const auto offset : {std::chrono::minutes(120), std::chrono::minutes(60)}) {
    const TimePoint utc = local - offset;
    if (copenhagen_offset(utc) == offset) return utc;
  }
  // The spring-forward gap (02:00–02:59 does not exist): read it as winter time.
  return local - std::chrono::minutes(60);
}

Result<OioxmlDocument> parse_oioxml(std::string_view bytes) {
  auto decoded = decode_document(bytes);
  if (!decoded) return decoded.error();
  auto tree = parse_xml_document(decoded->utf8);
  if (!tree) return tree.error();
  const XmlNode& root = *tree;
  if (root.name != "Emessage") return make_error(Errc::kInvalid, "root element is not Emessage");
  if (!is_dated_namespace(root.ns))
    return make_error(Errc::kInvalid, "Emessage: namespace is not a dated MedCom namespace");

  OioxmlDocument out;
  out.declared_encoding = decoded->declared;
  out.used_encoding = decoded->used;
  OioxmlEmessage& m = out.message;
  m.namespace_uri = root.ns;
  Reader r(root.ns);
  const XmlNode* env = r.child(&root, "Envelope", "Emessage", true);
  if (const XmlNode* sent = r.child(env, "Sent", "Emessage/Envelope", true))
    if (auto t = r.date_time(sent, "Emessage/Envelope/Sent")) m.sent = *t;
  m.envelope_id = r.id(env, "Identifier", "Emessage/Envelope");
  const std::string ack = r.required_text(env, "AcknowledgementCode", "Emessage/Envelope");
  if (r.ok() && ack != kPlus && ack != kMinus)
    r.fail("Emessage/Envelope/AcknowledgementCode",
           "expected pluspositivkvitt or minuspositivkvitt");
  m.positive_receipt_requested = ack == kPlus;

  std::size_t n = 0;
  for (const auto& c : root.children) {
    if (!r.ok()) break;
    if (c.ns != root.ns || c.name == "Envelope") continue;
    ++n;
    const std::string path = "Emessage/" +
                             (quotable_name(c.name) ? c.name : std::string("letter")) + "[" +
                             std::to_string(n) + "]";
    m.letters.push_back(r.letter(c, path));
  }
  if (r.ok() && m.letters.empty()) r.fail("Emessage", "no letter");
  if (!r.ok()) return r.take_error();
  out.original_bytes = std::string(bytes);
  return out;
}

std::string write_oioxml(const OioxmlEmessage& m, const OioxmlWriteOptions& options) {
  const bool latin1 = options.encoding != TextEncoding::kUtf8;
  XmlBuilder w(latin1 ? R"(<?xml version="1.0" encoding="ISO-8859-1"?>)"
                      : R"(<?xml version="1.0" encoding="UTF-8"?>)",
               options.indent);
  w.open("Emessage", {{"xmlns", m.namespace_uri}});
  w.open("Envelope");
  w.open("Sent");
  w.leaf("Date", format_oioxml_date(m.sent));
  w.leaf("Time", format_oioxml_time(m.sent));
  w.close();
  w.leaf("Identifier", m.envelope_id);
  w.leaf("AcknowledgementCode", m.positive_receipt_requested ? kPlus : kMinus);
  w.close();
  for (const auto& l : m.letters) write_letter(w, l);
  w.close();
  std::string utf8 = w.finish();
  return latin1 ? utf8_to_latin1_xml(utf8) : utf8;
}

}  // namespace sektorbro::adapters
