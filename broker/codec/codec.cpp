#include "broker/codec/codec.hpp"

#include <array>
#include <cassert>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "broker/codec/xml_tree.hpp"
#include "broker/core/identifiers.hpp"
#include "broker/xml/formatted_text.hpp"
#include "broker/xml/text_encoding.hpp"
#include "broker/xml/xml_builder.hpp"

// Wire format: schemas/sektorbro-message.xsd and schemas/sektorbro-acceptance.xsd. The element
// names, their order and the value shapes below must stay exactly in step with those files;
// the codec tests validate every example against both.

namespace sektorbro {
namespace {

constexpr int kUnbounded = -1;

constexpr std::string_view kDeclaration = R"(<?xml version="1.0" encoding="UTF-8"?>)";

// MedCom IdentifierCode values (domain.md §2).
constexpr std::array<std::string_view, 6> kIdentifierCodes{
    "kommunenummer", "sygehusafdelingsnummer", "lokationsnummer", "ydernummer", "amt", "sorkode"};

constexpr std::string_view kPlusReceipt = "pluspositivkvitt";
constexpr std::string_view kMinusReceipt = "minuspositivkvitt";

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_xml_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_xml_space(s.back())) s.remove_suffix(1);
  return s;
}

// 8-4-4-4-12 hexadecimal digits.
bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// An element name fit to quote in an error detail: schema vocabulary is letters only, so a name
// with anything else (digits could be a CPR number) is not quoted.
bool quotable_element(std::string_view name) {
  if (name.empty() || name.size() > 40) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  return true;
}

// One position in an element's content model (an xs:sequence entry): one element name, or a
// choice between several, occurring min..max times.
struct Slot {
  std::vector<std::string_view> names;
  int min = 1;
  int max = 1;
};

// The children matched to one slot. match() refuses children out of slot order, so they are
// consecutive children of the element: a range into its children, no list to allocate.
struct Children {
  const XmlElement* begin = nullptr;
  std::size_t count = 0;
  std::size_t size() const { return count; }
  bool empty() const { return count == 0; }
  const XmlElement* operator[](std::size_t i) const { return begin + i; }
};

// Correspondence has the most slots (11).
constexpr std::size_t kMaxSlots = 12;
using Matched = std::array<Children, kMaxSlots>;

const XmlElement* first(const Matched& m, std::size_t slot) {
  return m[slot].empty() ? nullptr : m[slot][0];
}

std::string join(std::string_view path, std::string_view name) {
  if (path.empty()) return std::string(name);
  std::string out(path);
  out.push_back('/');
  out.append(name);
  return out;
}

std::string choice_label(const Slot& slot) {
  std::string out;
  for (auto n : slot.names) {
    if (!out.empty()) out.push_back('|');
    out.append(n);
  }
  return out;
}

// Where a value sits, for error details: "parent/name", or "parent" alone. Made into a string
// only when a detail is written (a string per field read was a fifth of the allocations of a
// decode, docs/performance.md). Views only: use it within the call it is made for.
struct Path {
  std::string_view parent;
  std::string_view name;
  std::size_t index = 0;  // "parent/name[index]" when not 0
  Path(const char* p) : parent(p) {}
  Path(std::string_view p) : parent(p) {}
  Path(const std::string& p) : parent(p) {}
  Path(std::string_view p, std::string_view n, std::size_t i = 0) : parent(p), name(n), index(i) {}
  std::string str() const {
    std::string out(parent);
    if (!name.empty()) {
      out.push_back('/');
      out.append(name);
    }
    if (index != 0) out.append("[" + std::to_string(index) + "]");
    return out;
  }
};

// Reads values out of an XmlElement tree. The first error wins; after it, every read returns
// an empty value, so decoding code reads straight through and checks ok() once per unit.
class Reader {
 public:
  bool ok() const { return !error_.has_value(); }
  const Error& error() const { return *error_; }

  void fail(const Path& path, std::string_view what) {
    if (error_) return;
    std::string detail = path.str();
    detail.append(": ");
    detail.append(what);
    error_ = make_error(Errc::kInvalid, std::move(detail));
  }

  // Matches e's children against a sequence of slots. `path` names e in details; children's
  // paths are join(base, name).
  Matched match(const XmlElement* e, const Path& path, std::string_view base,
                const std::vector<Slot>& slots) {
    assert(slots.size() <= kMaxSlots);
    Matched out{};
    if (e == nullptr || !ok()) return out;
    if (e->has_foreign_attribute) fail(path, "unexpected attribute");
    if (!trim(e->text).empty()) fail(path, "unexpected text content");
    std::size_t last = 0;
    for (const auto& child : e->children) {
      std::size_t slot = slots.size();
      for (std::size_t s = 0; s < slots.size() && slot == slots.size(); ++s)
        for (auto n : slots[s].names)
          if (child.in_namespace && child.name == n) slot = s;
      if (slot == slots.size()) {
        if (!child.in_namespace && quotable_element(child.name))
          fail(path, "element " + child.name + " is not in namespace urn:sektorbro:messaging:1");
        else if (quotable_element(child.name))
          fail(path, "unknown element " + child.name);
        else
          fail(path, "unknown element");
        return Matched{};
      }
      const int max = slots[slot].max;
      if (max != kUnbounded && static_cast<int>(out[slot].size()) >= max) {
        if (slots[slot].names.size() == 1)
          fail(join(base, child.name), "repeated element");
        else
          fail(path, "more than one of " + choice_label(slots[slot]));
        return Matched{};
      }
      if (slot < last) {
        fail(join(base, child.name), "element out of order");
        return Matched{};
      }
      last = slot;
      if (out[slot].count++ == 0) out[slot].begin = &child;
    }
    for (std::size_t s = 0; s < slots.size(); ++s) {
      if (static_cast<int>(out[s].size()) < slots[s].min) {
        fail(path, (slots[s].names.size() == 1 ? "missing element " : "missing one of ") +
                       choice_label(slots[s]));
        return Matched{};
      }
    }
    return out;
  }

  // The trimmed character data of a leaf element; nullopt when absent or after an error.
  std::optional<std::string_view> leaf(const XmlElement* e, const Path& path) {
    if (e == nullptr || !ok()) return std::nullopt;
    if (e->has_foreign_attribute) fail(path, "unexpected attribute");
    if (!e->children.empty()) fail(path, "unexpected child element");
    if (!ok()) return std::nullopt;
    return trim(e->text);
  }

  std::string text(const XmlElement* e, const Path& path, bool allow_empty) {
    const auto v = leaf(e, path);
    if (!v) return {};
    if (v->empty() && !allow_empty) fail(path, "must not be empty");
    return std::string(*v);
  }

  std::string id(const XmlElement* e, const Path& path) {
    const auto v = leaf(e, path);
    if (!v) return {};
    if (!is_valid_message_id(*v)) fail(path, "expected 1-14 characters of A-Z a-z 0-9 . _ -");
    return std::string(*v);
  }

  std::string gln(const XmlElement* e, const Path& path) {
    const auto v = leaf(e, path);
    if (!v) return {};
    if (v->size() != 13 || !all_digits(*v))
      fail(path, "expected 13 digits");
    else if (!is_valid_gln(*v))
      fail(path, "GLN check digit is wrong");
    return std::string(*v);
  }

  std::string sor(const XmlElement* e, const Path& path) {
    const auto v = leaf(e, path);
    if (!v) return {};
    if (v->empty() || v->size() > 20 || !all_digits(*v)) fail(path, "expected 1-20 digits");
    return std::string(*v);
  }

  std::string cpr(const XmlElement* e, const Path& path) {
    const auto v = leaf(e, path);
    if (!v) return {};
    if (v->size() != 10 || !all_digits(*v))
      fail(path, "expected 10 digits");
    else if (!is_valid_cpr(*v))
      fail(path, "expected DDMMYYSSSS with a possible day and month");
    return std::string(*v);
  }

  // "LÆ" and three digits; whether the form is known is a business rule (validation).
  std::string form(const XmlElement* e, const Path& path) {
    const auto v = leaf(e, path);
    if (!v) return {};
    constexpr std::string_view kPrefix = "L\xC3\x86";  // "LÆ" in UTF-8
    if (v->size() != kPrefix.size() + 3 || !v->starts_with(kPrefix) ||
        !all_digits(v->substr(kPrefix.size())))
      fail(path, "expected a form code: L\xC3\x86 and three digits");
    return std::string(*v);
  }

  std::optional<Date> date(const XmlElement* e, const Path& path) {
    const auto v = leaf(e, path);
    if (!v) return std::nullopt;
    auto d = parse_date(*v);
    if (!d) fail(path, "expected an existing date YYYY-MM-DD");
    return d;
  }

  TimePoint timestamp(const XmlElement* e, const Path& path) {
    const auto v = leaf(e, path);
    if (!v) return {};
    auto t = parse_timestamp(*v);
    // xs:dateTime limits a zone offset to ±14:00.
    const bool zone_ok = v->size() < 6 || v->back() == 'Z' ||
                         !(v->substr(v->size() - 5, 2) == "14" && v->substr(v->size() - 2) != "00");
    if (!t || !zone_ok) {
      fail(path, "expected a dateTime with a time zone, e.g. 2026-11-20T09:30:00+01:00");
      return {};
    }
    return *t;
  }

  bool boolean(const XmlElement* e, const Path& path) {
    const auto v = leaf(e, path);
    if (!v) return false;
    if (*v != "true" && *v != "false") fail(path, "expected true or false");
    return *v == "true";
  }

  int positive_int(const XmlElement* e, const Path& path) {
    const auto v = leaf(e, path);
    if (!v) return 0;
    if (v->empty() || v->size() > 9 || !all_digits(*v) || (*v)[0] == '0') {
      fail(path, "expected a whole number from 1 to 999999999");
      return 0;
    }
    int n = 0;
    for (char c : *v) n = n * 10 + (c - '0');
    return n;
  }

  // An enumerated value; `allowed` lists the values (schema vocabulary, safe to quote).
  template <typename T, typename Parse>
  T enumerated(const XmlElement* e, const Path& path, Parse parse, std::string_view allowed) {
    const auto v = leaf(e, path);
    if (!v) return T{};
    const std::optional<T> parsed = parse(*v);
    if (!parsed) {
      fail(path, std::string("expected one of ") + std::string(allowed));
      return T{};
    }
    return *parsed;
  }

 private:
  std::optional<Error> error_;
};

// Root element check shared by both documents.
std::optional<Error> check_root(const XmlElement& root, std::string_view name) {
  if (root.name != name)
    return make_error(Errc::kInvalid, "root element must be " + std::string(name));
  if (!root.in_namespace)
    return make_error(Errc::kInvalid,
                      std::string(name) + ": namespace must be " + std::string(kNamespace));
  return std::nullopt;
}

Result<XmlElement> parse_document(std::string_view bytes, const DecodeLimits& limits) {
  std::string converted;  // only for a document that is not UTF-8 without CR (to_utf8_view)
  auto utf8 = to_utf8_view(bytes, converted);
  if (!utf8) return utf8.error();
  return parse_xml_tree(*utf8, kNamespace, limits);
}

// ---- decoding ------------------------------------------------------------------------------

Party read_party(Reader& r, const XmlElement* e, const std::string& path) {
  static const std::vector<Slot> kSlots{
      {{"GLN"}}, {{"SOR"}}, {{"IdentifierCode"}, 0}, {{"Identifier"}, 0}, {{"Name"}, 0}};
  const auto m = r.match(e, path, path, kSlots);
  Party p;
  p.gln = r.gln(first(m, 0), Path{path, "GLN"});
  p.sor = r.sor(first(m, 1), Path{path, "SOR"});
  if (const auto code = r.leaf(first(m, 2), Path{path, "IdentifierCode"})) {
    bool known = false;
    for (auto c : kIdentifierCodes) known = known || c == *code;
    if (!known)
      r.fail(path + "/IdentifierCode",
             "expected one of kommunenummer, sygehusafdelingsnummer, lokationsnummer, "
             "ydernummer, amt, sorkode");
    p.identifier_code = std::string(*code);
  }
  p.identifier = r.text(first(m, 3), Path{path, "Identifier"}, false);
  p.name = r.text(first(m, 4), Path{path, "Name"}, false);
  return p;
}

CertificateRequest read_certificate_request(Reader& r, const XmlElement* e,
                                            const std::string& path) {
  static const std::vector<Slot> kSlots{
      {{"Form"}}, {{"CaseReference"}}, {{"Question"}, 1, kUnbounded}, {{"ReplyDeadline"}, 0}};
  const auto m = r.match(e, path, path, kSlots);
  CertificateRequest b;
  b.form = r.form(first(m, 0), Path{path, "Form"});
  b.case_reference = r.text(first(m, 1), Path{path, "CaseReference"}, false);
  for (std::size_t i = 0; i < m[2].size(); ++i)
    b.questions.push_back(r.text(m[2][i], Path{path, "Question", i + 1}, false));
  if (const auto* d = first(m, 3)) b.reply_deadline = r.date(d, Path{path, "ReplyDeadline"});
  return b;
}

Certificate read_certificate(Reader& r, const XmlElement* e, const std::string& path) {
  static const std::vector<Slot> kSlots{
      {{"Form"}}, {{"RequestLetterIdentifier"}}, {{"Text", "Declined"}}};
  const auto m = r.match(e, path, path, kSlots);
  Certificate b;
  b.form = r.form(first(m, 0), Path{path, "Form"});
  b.request_letter_id = r.id(first(m, 1), Path{path, "RequestLetterIdentifier"});
  const XmlElement* choice = first(m, 2);
  if (choice != nullptr && choice->name == "Declined") {
    const std::string declined = path + "/Declined";
    static const std::vector<Slot> kDeclinedSlots{{{"Reason"}}};
    const auto d = r.match(choice, declined, declined, kDeclinedSlots);
    b.declined = true;
    b.decline_reason = r.text(first(d, 0), Path{declined, "Reason"}, true);
  } else {
    b.text = r.text(choice, Path{path, "Text"}, true);
  }
  return b;
}

DischargeNotice read_discharge_notice(Reader& r, const XmlElement* e, const std::string& path) {
  static const std::vector<Slot> kSlots{{{"AdmissionDate"}},
                                        {{"DischargeDate"}},
                                        {{"MentorEntitled"}},
                                        {{"Consent"}},
                                        {{"Department"}, 0}};
  const auto m = r.match(e, path, path, kSlots);
  DischargeNotice b;
  if (auto d = r.date(first(m, 0), Path{path, "AdmissionDate"})) b.admission_date = *d;
  if (auto d = r.date(first(m, 1), Path{path, "DischargeDate"})) b.discharge_date = *d;
  b.mentor_entitled = r.boolean(first(m, 2), Path{path, "MentorEntitled"});
  b.consent = r.boolean(first(m, 3), Path{path, "Consent"});
  b.department = r.text(first(m, 4), Path{path, "Department"}, false);
  return b;
}

MentorResponse read_mentor_response(Reader& r, const XmlElement* e, const std::string& path) {
  static const std::vector<Slot> kSlots{
      {{"NoticeLetterIdentifier"}}, {{"Outcome"}}, {{"MentorName"}, 0}, {{"MentorPhone"}, 0}};
  const auto m = r.match(e, path, path, kSlots);
  MentorResponse b;
  b.notice_letter_id = r.id(first(m, 0), Path{path, "NoticeLetterIdentifier"});
  b.outcome = r.enumerated<MentorOutcome>(first(m, 1), Path{path, "Outcome"}, parse_mentor_outcome,
                                          "offered, accepted, declined, not-reached");
  b.mentor_name = r.text(first(m, 2), Path{path, "MentorName"}, false);
  b.mentor_phone = r.text(first(m, 3), Path{path, "MentorPhone"}, false);
  return b;
}

Reminder read_reminder(Reader& r, const XmlElement* e, const std::string& path) {
  static const std::vector<Slot> kSlots{
      {{"OriginalLetterIdentifier"}}, {{"Owed"}}, {{"Due"}}, {{"Step"}}, {{"Text"}}};
  const auto m = r.match(e, path, path, kSlots);
  Reminder b;
  b.original_letter_id = r.id(first(m, 0), Path{path, "OriginalLetterIdentifier"});
  b.owed = r.enumerated<LetterType>(first(m, 1), Path{path, "Owed"}, parse_letter_type,
                                    "the letter type names");
  if (auto d = r.date(first(m, 2), Path{path, "Due"})) b.due = *d;
  b.step = r.positive_int(first(m, 3), Path{path, "Step"});
  b.text = r.text(first(m, 4), Path{path, "Text"}, false);
  return b;
}

// A MedCom code (TypeCode "XDIS91", VersionCode "XD9134L"): 1-20 letters and digits.
std::string read_medcom_code(Reader& r, const XmlElement* e, const std::string& path) {
  const auto v = r.leaf(e, path);
  if (!v) return {};
  bool ok = !v->empty() && v->size() <= 20;
  for (char c : *v)
    ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
  if (!ok) r.fail(path, "expected 1-20 letters A-Z a-z and digits");
  return std::string(*v);
}

PostalAddress read_address(Reader& r, const Matched& m, std::size_t from, const std::string& path) {
  PostalAddress a;
  a.street = r.text(first(m, from), Path{path, "Street"}, false);
  a.suburb = r.text(first(m, from + 1), Path{path, "Suburb"}, false);
  a.district = r.text(first(m, from + 2), Path{path, "District"}, false);
  a.post_code = r.text(first(m, from + 3), Path{path, "PostCode"}, false);
  return a;
}

PartyDetails read_party_details(Reader& r, const XmlElement* e, const std::string& path) {
  PartyDetails d;
  if (e == nullptr) return d;
  static const std::vector<Slot> kSlots{
      {{"Department"}, 0}, {{"Unit"}, 0},     {{"Street"}, 0}, {{"Suburb"}, 0},
      {{"District"}, 0},   {{"PostCode"}, 0}, {{"Phone"}, 0},  {{"SpecialityCode"}, 0}};
  const auto m = r.match(e, path, path, kSlots);
  d.department = r.text(first(m, 0), Path{path, "Department"}, false);
  d.unit = r.text(first(m, 1), Path{path, "Unit"}, false);
  d.address = read_address(r, m, 2, path);
  d.phone = r.text(first(m, 6), Path{path, "Phone"}, false);
  d.speciality_code = r.text(first(m, 7), Path{path, "SpecialityCode"}, false);
  return d;
}

PatientDetails read_patient_details(Reader& r, const XmlElement* e, const std::string& path) {
  PatientDetails d;
  if (e == nullptr) return d;
  static const std::vector<Slot> kSlots{
      {{"Surname"}, 0},  {{"GivenName"}, 0}, {{"Street"}, 0},    {{"Suburb"}, 0},
      {{"District"}, 0}, {{"PostCode"}, 0},  {{"Occupancy"}, 0}, {{"EpisodeOfCareStatus"}, 0}};
  const auto m = r.match(e, path, path, kSlots);
  d.surname = r.text(first(m, 0), Path{path, "Surname"}, false);
  d.given_name = r.text(first(m, 1), Path{path, "GivenName"}, false);
  d.address = read_address(r, m, 2, path);
  d.occupancy = r.text(first(m, 6), Path{path, "Occupancy"}, false);
  d.episode_of_care_status = r.text(first(m, 7), Path{path, "EpisodeOfCareStatus"}, false);
  return d;
}

AttachmentReference read_attachment(Reader& r, const XmlElement* e, const std::string& path) {
  static const std::vector<Slot> kSlots{{{"Description"}},   {{"URL"}, 0},
                                        {{"SUP"}, 0},        {{"ObjectIdentifier"}, 0},
                                        {{"ObjectCode"}, 0}, {{"ObjectExtensionCode"}, 0},
                                        {{"Size"}, 0}};
  const auto m = r.match(e, path, path, kSlots);
  AttachmentReference a;
  a.description = r.text(first(m, 0), Path{path, "Description"}, false);
  a.url = r.text(first(m, 1), Path{path, "URL"}, false);
  if (const auto sup = r.leaf(first(m, 2), Path{path, "SUP"})) {
    if (*sup != "true") r.fail(path + "/SUP", "expected true");
    a.sup = true;
  }
  a.object_id = r.text(first(m, 3), Path{path, "ObjectIdentifier"}, false);
  a.object_code = r.text(first(m, 4), Path{path, "ObjectCode"}, false);
  a.extension_code = r.text(first(m, 5), Path{path, "ObjectExtensionCode"}, false);
  if (const auto size = r.leaf(first(m, 6), Path{path, "Size"})) {
    if (size->empty() || size->size() > 18 || !all_digits(*size) ||
        size->find_first_not_of('0') == std::string_view::npos)
      r.fail(path + "/Size", "expected a positive whole number");
    else
      a.size = std::stoull(std::string(*size));
  }
  const bool bin = !a.object_id.empty();
  const int kinds = (a.url.empty() ? 0 : 1) + (a.sup ? 1 : 0) + (bin ? 1 : 0);
  if (r.ok() && kinds != 1) r.fail(path, "expected one of URL, SUP or ObjectIdentifier");
  if (r.ok() && bin != (!a.object_code.empty() && !a.extension_code.empty() && a.size > 0))
    r.fail(path, "ObjectIdentifier, ObjectCode, ObjectExtensionCode and Size go together");
  return a;
}

Correspondence read_correspondence(Reader& r, const XmlElement* e, const std::string& path) {
  static const std::vector<Slot> kSlots{{{"Subject"}},
                                        {{"Priority"}, 0},
                                        {{"TypeCode"}, 0},
                                        {{"VersionCode"}, 0},
                                        {{"Text"}},
                                        {{"FormattedText"}, 0, 10},
                                        {{"EpisodeOfCareIdentifier"}, 0},
                                        {{"Attachment"}, 0, 10},
                                        {{"SenderDetails"}, 0},
                                        {{"ReceiverDetails"}, 0},
                                        {{"PatientDetails"}, 0}};
  const auto m = r.match(e, path, path, kSlots);
  Correspondence b;
  b.subject = r.text(first(m, 0), Path{path, "Subject"}, false);
  b.priority = r.text(first(m, 1), Path{path, "Priority"}, false);
  if (const auto* t = first(m, 2)) b.medcom_type_code = read_medcom_code(r, t, path + "/TypeCode");
  if (const auto* v = first(m, 3))
    b.medcom_version_code = read_medcom_code(r, v, path + "/VersionCode");
  b.text = r.text(first(m, 4), Path{path, "Text"}, false);
  for (std::size_t i = 0; i < m[5].size(); ++i) {
    const std::string fpath = path + "/FormattedText[" + std::to_string(i + 1) + "]";
    // The fragment is character data here (escaped once more), so it is taken untrimmed.
    const auto f = r.leaf(m[5][i], fpath);
    if (!f) break;
    std::string fragment(m[5][i]->text);
    if (auto ok = check_formatted_text(fragment); !ok) r.fail(fpath, ok.error().detail);
    b.formatted_text.push_back(std::move(fragment));
  }
  if (r.ok() && !b.formatted_text.empty() && plain_text_of_blocks(b.formatted_text) != b.text)
    r.fail(path + "/Text", "must be the plain text of FormattedText");
  b.episode_of_care_id = r.text(first(m, 6), Path{path, "EpisodeOfCareIdentifier"}, false);
  for (std::size_t i = 0; i < m[7].size(); ++i)
    b.attachments.push_back(
        read_attachment(r, m[7][i], path + "/Attachment[" + std::to_string(i + 1) + "]"));
  b.sender_details = read_party_details(r, first(m, 8), path + "/SenderDetails");
  b.receiver_details = read_party_details(r, first(m, 9), path + "/ReceiverDetails");
  b.patient_details = read_patient_details(r, first(m, 10), path + "/PatientDetails");
  return b;
}

std::vector<std::string> read_letter_ids(Reader& r, const Children& es, const std::string& path) {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < es.size(); ++i)
    ids.push_back(r.id(es[i], Path{path, "OriginalLetterIdentifier", i + 1}));
  return ids;
}

PositiveReceipt read_positive_receipt(Reader& r, const XmlElement* e, const std::string& path) {
  static const std::vector<Slot> kSlots{{{"OriginalEnvelopeIdentifier"}},
                                        {{"OriginalLetterIdentifier"}, 1, kUnbounded}};
  const auto m = r.match(e, path, path, kSlots);
  PositiveReceipt b;
  b.original.original_envelope_id = r.id(first(m, 0), Path{path, "OriginalEnvelopeIdentifier"});
  b.original.original_letter_ids = read_letter_ids(r, m[1], path);
  return b;
}

NegativeReceipt read_negative_receipt(Reader& r, const XmlElement* e, const std::string& path) {
  static const std::vector<Slot> kSlots{{{"Level"}},
                                        {{"OriginalEnvelopeIdentifier"}},
                                        {{"OriginalLetterIdentifier"}, 0, kUnbounded},
                                        {{"RefuseCode"}},
                                        {{"RefuseText"}}};
  const auto m = r.match(e, path, path, kSlots);
  NegativeReceipt b;
  b.level = r.enumerated<ReceiptLevel>(first(m, 0), Path{path, "Level"}, parse_receipt_level,
                                       "network, application");
  b.original.original_envelope_id = r.id(first(m, 1), Path{path, "OriginalEnvelopeIdentifier"});
  b.original.original_letter_ids = read_letter_ids(r, m[2], path);
  b.code = r.enumerated<RefuseCode>(first(m, 3), Path{path, "RefuseCode"}, parse_refuse_code,
                                    "ikke_specificeret, ukendt_lokationsnummer, "
                                    "problem_med_modtagerID, problem_med_version, syntaksfejl");
  b.text = r.text(first(m, 4), Path{path, "RefuseText"}, false);
  return b;
}

HospitalStayNotice read_hospital_stay_notice(Reader& r, const XmlElement* e,
                                             const std::string& path) {
  static const std::vector<Slot> kSlots{
      {{"Event"}},         {{"EventTime"}, 0},       {{"StayStart"}},
      {{"StayEnd"}, 0},    {{"EncounterStatus"}, 0}, {{"EncounterClass"}, 0},
      {{"Department"}, 0}, {{"FhirMessage"}, 0}};
  const auto m = r.match(e, path, path, kSlots);
  HospitalStayNotice b;
  b.event = r.enumerated<HospitalStayEvent>(
      first(m, 0), Path{path, "Event"}, parse_hospital_stay_event,
      "admit-inpatient, admit-emergency, start-leave-inpatient, end-leave-inpatient, "
      "discharge-emergency-home");
  b.event_time = r.text(first(m, 1), Path{path, "EventTime"}, false);
  b.stay_start = r.text(first(m, 2), Path{path, "StayStart"}, false);
  b.stay_end = r.text(first(m, 3), Path{path, "StayEnd"}, false);
  b.encounter_status = r.text(first(m, 4), Path{path, "EncounterStatus"}, false);
  b.encounter_class = r.text(first(m, 5), Path{path, "EncounterClass"}, false);
  b.department = r.text(first(m, 6), Path{path, "Department"}, false);
  b.fhir_message = r.text(first(m, 7), Path{path, "FhirMessage"}, false);
  return b;
}

LetterBody read_body(Reader& r, const XmlElement* e, const std::string& letter_path) {
  if (e == nullptr) return CertificateRequest{};
  const std::string path = letter_path + "/" + e->name;
  switch (*parse_letter_type(e->name)) {  // the slot admits only letter type names
    case LetterType::kCertificateRequest:
      return read_certificate_request(r, e, path);
    case LetterType::kCertificate:
      return read_certificate(r, e, path);
    case LetterType::kDischargeNotice:
      return read_discharge_notice(r, e, path);
    case LetterType::kMentorResponse:
      return read_mentor_response(r, e, path);
    case LetterType::kReminder:
      return read_reminder(r, e, path);
    case LetterType::kPositiveReceipt:
      return read_positive_receipt(r, e, path);
    case LetterType::kNegativeReceipt:
      return read_negative_receipt(r, e, path);
    case LetterType::kCorrespondence:
      return read_correspondence(r, e, path);
    case LetterType::kHospitalStayNotice:
      return read_hospital_stay_notice(r, e, path);
  }
  return CertificateRequest{};
}

// Patient/CPR: required on letters about a citizen, optional on reminders, never on receipts.
enum class PatientRule { kRequired, kOptional, kForbidden };
PatientRule patient_rule(LetterType t) {
  if (is_receipt(t)) return PatientRule::kForbidden;
  if (t == LetterType::kReminder) return PatientRule::kOptional;
  return PatientRule::kRequired;
}

// The body slot of a Letter: one element named for each letter type.
std::vector<std::string_view> body_names() {
  std::vector<std::string_view> names;
  for (auto t : kAllLetterTypes) names.push_back(to_string(t));
  return names;
}

Letter read_letter(Reader& r, const XmlElement* e, const std::string& path) {
  static const std::vector<Slot> kSlots{{{"Identifier"}},
                                        {{"Type"}},
                                        {{"Status"}},
                                        {{"Authorised"}},
                                        {{"FhirMessageIdentifier"}, 0},
                                        {{"Sender"}},
                                        {{"Receiver"}},
                                        {{"Patient"}, 0},
                                        {body_names()}};
  const auto m = r.match(e, path, path, kSlots);
  Letter letter;
  letter.id = r.id(first(m, 0), Path{path, "Identifier"});
  const auto type = r.enumerated<LetterType>(
      first(m, 1), Path{path, "Type"}, parse_letter_type,
      "CertificateRequest, Certificate, DischargeNotice, MentorResponse, Reminder, "
      "PositiveReceipt, NegativeReceipt, Correspondence, HospitalStayNotice");
  letter.status = r.enumerated<LetterStatus>(first(m, 2), Path{path, "Status"}, parse_letter_status,
                                             "nytbrev, rettetbrev, annulleretbrev");
  letter.authorised = r.timestamp(first(m, 3), Path{path, "Authorised"});
  if (const auto f = r.leaf(first(m, 4), Path{path, "FhirMessageIdentifier"})) {
    if (!is_uuid(*f)) r.fail(path + "/FhirMessageIdentifier", "expected a UUID");
    letter.fhir_message_id = std::string(*f);
  }
  letter.sender = read_party(r, first(m, 5), path + "/Sender");
  letter.receiver = read_party(r, first(m, 6), path + "/Receiver");
  if (const XmlElement* p = first(m, 7)) {
    const std::string ppath = path + "/Patient";
    static const std::vector<Slot> kPatientSlots{{{"CPR"}}};
    const auto pm = r.match(p, ppath, ppath, kPatientSlots);
    letter.patient = Patient{r.cpr(first(pm, 0), Path{ppath, "CPR"})};
  }
  const XmlElement* body = first(m, 8);
  if (r.ok() && body != nullptr && body->name != to_string(type))
    r.fail(path,
           "body element " + body->name + " does not match Type " + std::string(to_string(type)));
  if (r.ok()) {
    const auto rule = patient_rule(type);
    if (rule == PatientRule::kRequired && !letter.patient)
      r.fail(path, "missing element Patient (required on " + std::string(to_string(type)) + ")");
    if (rule == PatientRule::kForbidden && letter.patient)
      r.fail(path + "/Patient", "not allowed on " + std::string(to_string(type)));
  }
  letter.body = read_body(r, body, path);
  return letter;
}

Envelope read_envelope(Reader& r, const XmlElement& root) {
  static const std::vector<Slot> kSlots{{{"Envelope"}}, {{"Letter"}, 1, kUnbounded}};
  const auto m = r.match(&root, "Emessage", "", kSlots);
  Envelope env;
  static const std::vector<Slot> kEnvelopeSlots{
      {{"Identifier"}}, {{"Sent"}}, {{"AcknowledgementCode"}}};
  const auto head = r.match(first(m, 0), "Envelope", "Envelope", kEnvelopeSlots);
  env.id = r.id(first(head, 0), "Envelope/Identifier");
  env.sent = r.timestamp(first(head, 1), "Envelope/Sent");
  if (const auto ack = r.leaf(first(head, 2), "Envelope/AcknowledgementCode")) {
    if (*ack != kPlusReceipt && *ack != kMinusReceipt)
      r.fail("Envelope/AcknowledgementCode", "expected pluspositivkvitt or minuspositivkvitt");
    env.positive_receipt_requested = *ack == kPlusReceipt;
  }
  std::set<std::string> ids;
  for (std::size_t i = 0; i < m[1].size() && r.ok(); ++i) {
    const std::string path = "Letter[" + std::to_string(i + 1) + "]";
    Letter letter = read_letter(r, m[1][i], path);
    if (!r.ok()) break;
    if (!ids.insert(letter.id).second)
      r.fail(path + "/Identifier", "letter identifier repeated within the envelope");
    if (i > 0 && letter.sender.gln != env.letters.front().sender.gln)
      r.fail(path + "/Sender/GLN", "all letters of an envelope must have the same sender");
    if (i > 0 && letter.receiver.gln != env.letters.front().receiver.gln)
      r.fail(path + "/Receiver/GLN", "all letters of an envelope must have the same receiver");
    env.letters.push_back(std::move(letter));
  }
  return env;
}

// ---- encoding ------------------------------------------------------------------------------

void write_party(XmlBuilder& w, std::string_view name, const Party& p) {
  w.open(name);
  w.leaf("GLN", p.gln);
  w.leaf("SOR", p.sor);
  if (!p.identifier_code.empty()) w.leaf("IdentifierCode", p.identifier_code);
  if (!p.identifier.empty()) w.leaf("Identifier", p.identifier);
  if (!p.name.empty()) w.leaf("Name", p.name);
  w.close();
}

void write_ids(XmlBuilder& w, const std::vector<std::string>& ids) {
  for (const auto& id : ids) w.leaf("OriginalLetterIdentifier", id);
}

struct BodyWriter {
  XmlBuilder& w;

  void operator()(const CertificateRequest& b) {
    w.leaf("Form", b.form);
    w.leaf("CaseReference", b.case_reference);
    for (const auto& q : b.questions) w.leaf("Question", q);
    if (b.reply_deadline) w.leaf("ReplyDeadline", format_date(*b.reply_deadline));
  }
  void operator()(const Certificate& b) {
    w.leaf("Form", b.form);
    w.leaf("RequestLetterIdentifier", b.request_letter_id);
    if (b.declined) {
      w.open("Declined");
      w.leaf("Reason", b.decline_reason);
      w.close();
    } else {
      w.leaf("Text", b.text);
    }
  }
  void operator()(const DischargeNotice& b) {
    w.leaf("AdmissionDate", format_date(b.admission_date));
    w.leaf("DischargeDate", format_date(b.discharge_date));
    w.leaf("MentorEntitled", b.mentor_entitled ? "true" : "false");
    w.leaf("Consent", b.consent ? "true" : "false");
    if (!b.department.empty()) w.leaf("Department", b.department);
  }
  void operator()(const MentorResponse& b) {
    w.leaf("NoticeLetterIdentifier", b.notice_letter_id);
    w.leaf("Outcome", to_string(b.outcome));
    if (!b.mentor_name.empty()) w.leaf("MentorName", b.mentor_name);
    if (!b.mentor_phone.empty()) w.leaf("MentorPhone", b.mentor_phone);
  }
  void operator()(const Reminder& b) {
    w.leaf("OriginalLetterIdentifier", b.original_letter_id);
    w.leaf("Owed", to_string(b.owed));
    w.leaf("Due", format_date(b.due));
    w.leaf("Step", std::to_string(b.step));
    w.leaf("Text", b.text);
  }
  void operator()(const PositiveReceipt& b) {
    w.leaf("OriginalEnvelopeIdentifier", b.original.original_envelope_id);
    write_ids(w, b.original.original_letter_ids);
  }
  void operator()(const NegativeReceipt& b) {
    w.leaf("Level", to_string(b.level));
    w.leaf("OriginalEnvelopeIdentifier", b.original.original_envelope_id);
    write_ids(w, b.original.original_letter_ids);
    w.leaf("RefuseCode", to_string(b.code));
    w.leaf("RefuseText", b.text);
  }
  void operator()(const HospitalStayNotice& b) {
    w.leaf("Event", to_string(b.event));
    if (!b.event_time.empty()) w.leaf("EventTime", b.event_time);
    w.leaf("StayStart", b.stay_start);
    if (!b.stay_end.empty()) w.leaf("StayEnd", b.stay_end);
    if (!b.encounter_status.empty()) w.leaf("EncounterStatus", b.encounter_status);
    if (!b.encounter_class.empty()) w.leaf("EncounterClass", b.encounter_class);
    if (!b.department.empty()) w.leaf("Department", b.department);
    if (!b.fhir_message.empty()) w.leaf("FhirMessage", b.fhir_message);
  }
  void operator()(const Correspondence& b) {
    w.leaf("Subject", b.subject);
    if (!b.priority.empty()) w.leaf("Priority", b.priority);
    if (!b.medcom_type_code.empty()) w.leaf("TypeCode", b.medcom_type_code);
    if (!b.medcom_version_code.empty()) w.leaf("VersionCode", b.medcom_version_code);
    w.leaf("Text", b.text);
    for (const auto& f : b.formatted_text) w.leaf("FormattedText", f);
    optional("EpisodeOfCareIdentifier", b.episode_of_care_id);
    for (const auto& a : b.attachments) {
      w.open("Attachment");
      w.leaf("Description", a.description);
      optional("URL", a.url);
      if (a.sup) w.leaf("SUP", "true");
      if (!a.object_id.empty()) {
        w.leaf("ObjectIdentifier", a.object_id);
        w.leaf("ObjectCode", a.object_code);
        w.leaf("ObjectExtensionCode", a.extension_code);
        w.leaf("Size", std::to_string(a.size));
      }
      w.close();
    }
    details("SenderDetails", b.sender_details);
    details("ReceiverDetails", b.receiver_details);
    if (!b.patient_details.empty()) {
      const PatientDetails& d = b.patient_details;
      w.open("PatientDetails");
      optional("Surname", d.surname);
      optional("GivenName", d.given_name);
      address(d.address);
      optional("Occupancy", d.occupancy);
      optional("EpisodeOfCareStatus", d.episode_of_care_status);
      w.close();
    }
  }
  void optional(std::string_view name, const std::string& value) {
    if (!value.empty()) w.leaf(name, value);
  }
  void address(const PostalAddress& a) {
    optional("Street", a.street);
    optional("Suburb", a.suburb);
    optional("District", a.district);
    optional("PostCode", a.post_code);
  }
  void details(std::string_view name, const PartyDetails& d) {
    if (d.empty()) return;
    w.open(name);
    optional("Department", d.department);
    optional("Unit", d.unit);
    address(d.address);
    optional("Phone", d.phone);
    optional("SpecialityCode", d.speciality_code);
    w.close();
  }
};

// The free texts of a letter body: what makes one letter's XML bigger than another's.
struct FreeTextSize {
  std::size_t operator()(const CertificateRequest& b) const {
    std::size_t n = b.case_reference.size();
    for (const auto& q : b.questions) n += q.size();
    return n;
  }
  std::size_t operator()(const Certificate& b) const {
    return b.text.size() + b.decline_reason.size();
  }
  std::size_t operator()(const Reminder& b) const { return b.text.size(); }
  std::size_t operator()(const NegativeReceipt& b) const { return b.text.size(); }
  std::size_t operator()(const HospitalStayNotice& b) const { return b.fhir_message.size(); }
  std::size_t operator()(const Correspondence& b) const {
    std::size_t n = b.subject.size() + b.text.size();
    for (const auto& f : b.formatted_text) n += f.size();
    return n;
  }
  template <typename Body>
  std::size_t operator()(const Body&) const {
    return 0;
  }
};

// About how many bytes a letter's XML takes: its free texts and the markup around them (the
// side-by-side bench's CertificateRequest has ~1 KB of markup). A hint for XmlBuilder::reserve
// only, so that the output buffer is allocated once; the bytes written do not depend on it.
std::size_t approximate_size(const Letter& l) {
  constexpr std::size_t kMarkup = 1536;
  return kMarkup + std::visit(FreeTextSize{}, l.body);
}

void write_letter(XmlBuilder& w, const Letter& l, std::string_view xmlns) {
  if (xmlns.empty())
    w.open("Letter");
  else
    w.open("Letter", {{"xmlns", xmlns}});
  w.leaf("Identifier", l.id);
  w.leaf("Type", to_string(l.type()));
  w.leaf("Status", to_string(l.status));
  w.leaf("Authorised", format_timestamp(l.authorised));
  if (!l.fhir_message_id.empty()) w.leaf("FhirMessageIdentifier", l.fhir_message_id);
  write_party(w, "Sender", l.sender);
  write_party(w, "Receiver", l.receiver);
  if (l.patient) {
    w.open("Patient");
    w.leaf("CPR", l.patient->cpr);
    w.close();
  }
  w.open(to_string(l.type()));
  std::visit(BodyWriter{w}, l.body);
  w.close();
  w.close();
}

}  // namespace

Result<Envelope> decode_envelope(std::string_view bytes) {
  return decode_envelope(bytes, kDefaultDecodeLimits);
}

Result<Envelope> decode_envelope(std::string_view bytes, const DecodeLimits& limits) {
  auto tree = parse_document(bytes, limits);
  if (!tree) return tree.error();
  if (auto bad = check_root(*tree, "Emessage")) return *bad;
  Reader r;
  Envelope env = read_envelope(r, *tree);
  if (!r.ok()) return r.error();
  return env;
}

std::string encode_envelope(const Envelope& envelope) {
  std::size_t size = 512;  // declaration and Envelope
  for (const auto& letter : envelope.letters) size += approximate_size(letter);
  XmlBuilder w(kDeclaration, true, size);
  w.open("Emessage", {{"xmlns", kNamespace}});
  w.open("Envelope");
  w.leaf("Identifier", envelope.id);
  w.leaf("Sent", format_timestamp(envelope.sent));
  w.leaf("AcknowledgementCode", envelope.positive_receipt_requested ? kPlusReceipt : kMinusReceipt);
  w.close();
  for (const auto& letter : envelope.letters) write_letter(w, letter, {});
  w.close();
  return w.finish();
}

std::string encode_letter(const Letter& letter) {
  XmlBuilder w({}, true, approximate_size(letter));
  write_letter(w, letter, kNamespace);
  return w.finish();
}

std::size_t approximate_letter_bytes(const Letter& letter) { return approximate_size(letter); }

std::string encode_acceptance(const Acceptance& acceptance) {
  // ~280 bytes of markup, ids and time; ~50 per letter id.
  XmlBuilder w(kDeclaration, true, 384 + 64 * acceptance.letter_ids.size());
  w.open("Acceptance", {{"xmlns", kNamespace}});
  w.leaf("EnvelopeIdentifier", acceptance.envelope_id);
  w.leaf("SenderGLN", acceptance.sender_gln);
  for (const auto& id : acceptance.letter_ids) w.leaf("LetterIdentifier", id);
  w.leaf("AcceptedAt", format_timestamp(acceptance.accepted_at));
  w.close();
  return w.finish();
}

Result<Acceptance> decode_acceptance(std::string_view bytes) {
  auto tree = parse_document(bytes, kDefaultDecodeLimits);
  if (!tree) return tree.error();
  if (auto bad = check_root(*tree, "Acceptance")) return *bad;
  Reader r;
  static const std::vector<Slot> kSlots{{{"EnvelopeIdentifier"}},
                                        {{"SenderGLN"}},
                                        {{"LetterIdentifier"}, 1, kUnbounded},
                                        {{"AcceptedAt"}}};
  const auto m = r.match(&*tree, "Acceptance", "", kSlots);
  Acceptance a;
  a.envelope_id = r.id(first(m, 0), "EnvelopeIdentifier");
  a.sender_gln = r.gln(first(m, 1), "SenderGLN");
  for (std::size_t i = 0; i < m[2].size(); ++i)
    a.letter_ids.push_back(r.id(m[2][i], "LetterIdentifier[" + std::to_string(i + 1) + "]"));
  a.accepted_at = r.timestamp(first(m, 3), "AcceptedAt");
  if (!r.ok()) return r.error();
  return a;
}

}  // namespace sektorbro
