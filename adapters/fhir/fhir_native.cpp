#include "adapters/fhir/fhir_native.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>
#include <variant>

#include "broker/codec/validation.hpp"
#include "broker/core/copenhagen_time.hpp"
#include "broker/core/identifiers.hpp"

namespace sektorbro::adapters {
namespace {

constexpr std::string_view kHex = "0123456789abcdef";
constexpr std::string_view kHighPriority = "h\xC3\xB8j_prioritet";  // høj_prioritet
constexpr std::string_view kDischarge = "discharge-inpatient-home";

Error invalid(std::string detail) { return make_error(Errc::kInvalid, std::move(detail)); }

// Bit i of a 128-bit UUID, 0 = the most significant bit of the first byte.
bool version_or_variant_bit(int i) { return (i >= 48 && i < 52) || (i == 64 || i == 65); }

std::optional<std::array<std::uint8_t, 16>> uuid_bytes(std::string_view uuid) {
  if (uuid.starts_with("urn:uuid:")) uuid.remove_prefix(9);
  if (uuid.size() != 36) return std::nullopt;
  std::array<std::uint8_t, 16> b{};
  std::size_t k = 0;
  for (std::size_t i = 0; i < uuid.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (uuid[i] != '-') return std::nullopt;
      continue;
    }
    const char c = static_cast<char>(uuid[i] | 0x20);
    const auto pos = kHex.find(c);
    if (pos == std::string_view::npos) return std::nullopt;
    b[k / 2] = static_cast<std::uint8_t>(b[k / 2] | (pos << ((k % 2) ? 0 : 4)));
    ++k;
  }
  return b;
}

std::string uuid_text(const std::array<std::uint8_t, 16>& b) {
  std::string out;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xF]);
  }
  return out;
}

// Copenhagen date of a FHIR dateTime ("2026-03-01T12:00:00+01:00") or date ("2026-03-01").
std::optional<Date> fhir_date(std::string_view s) {
  if (s.size() == 10) return parse_date(s);
  if (auto t = parse_timestamp(s)) return copenhagen_date(*t);
  return std::nullopt;
}

// MedCom writes line breaks in contentString as <br/> (its XDIS91 → FHIR conversion does).
std::string text_from_content(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    bool br = false;
    for (std::string_view tag : {"<br/>", "<br />", "<br>", "<BR/>", "<BR>"}) {
      if (s.substr(i).starts_with(tag)) {
        out.push_back('\n');
        i += tag.size();
        br = true;
        break;
      }
    }
    if (!br) out.push_back(s[i++]);
  }
  return out;
}

std::string content_from_text(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n')
      out.append("<br/>");
    else
      out.push_back(c);
  }
  return out;
}

Party native_party(const FhirParty& p) {
  Party out;
  out.gln = p.gln;
  out.sor = p.sor;
  out.name = p.name;
  return out;
}

FhirParty fhir_party(const Party& p) { return FhirParty{p.gln, p.sor, p.name}; }

std::string sor_endpoint(std::string_view sor) {
  return "https://sor2.sum.dsdn.dk/#id=" + std::string(sor);
}

// The discharge-family Provenance of a HospitalNotification: the one whose target is the
// MessageHeader itself.
const FhirProvenance* own_provenance(const FhirMessage& m) {
  for (const auto& p : m.provenances)
    if (p.target.ends_with(m.header_id)) return &p;
  return m.provenances.empty() ? nullptr : &m.provenances.back();
}

// A HospitalNotification activity without its revise-/cancel- prefix, and the native status the
// prefix stands for (MedCom: revise-… corrects, cancel-… cancels the notification it names).
std::pair<std::string, LetterStatus> split_activity(std::string_view activity) {
  if (activity.starts_with("revise-"))
    return {std::string(activity.substr(7)), LetterStatus::kCorrected};
  if (activity.starts_with("cancel-"))
    return {std::string(activity.substr(7)), LetterStatus::kCancelled};
  return {std::string(activity), LetterStatus::kNew};
}

std::string activity_for(std::string_view event, LetterStatus status) {
  if (status == LetterStatus::kCorrected) return "revise-" + std::string(event);
  if (status == LetterStatus::kCancelled) return "cancel-" + std::string(event);
  return std::string(event);
}

std::string referenced_header_id(std::string_view reference) {
  const auto slash = reference.rfind('/');
  return std::string(slash == std::string_view::npos ? reference : reference.substr(slash + 1));
}

}  // namespace

std::string uuid_for_native_id(std::string_view native_id) {
  // Payload bits: 4 bits of length, then 14 characters of 7 bits, into the 122 bits a UUID
  // leaves free after its version (8) and variant (10) bits.
  std::array<std::uint8_t, 16> b{};
  int bit = 0;
  const auto put = [&](unsigned v, int width) {
    for (int k = width - 1; k >= 0; --k) {
      while (version_or_variant_bit(bit)) ++bit;
      if ((v >> k) & 1U) b[bit / 8] = static_cast<std::uint8_t>(b[bit / 8] | (0x80 >> (bit % 8)));
      ++bit;
    }
  };
  const std::size_t n = std::min<std::size_t>(native_id.size(), 14);
  put(static_cast<unsigned>(n), 4);
  for (std::size_t i = 0; i < 14; ++i)
    put(i < n ? static_cast<unsigned>(static_cast<unsigned char>(native_id[i]) & 0x7F) : 0U, 7);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x80);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
  return uuid_text(b);
}

std::optional<std::string> native_id_in_uuid(std::string_view uuid) {
  auto b = uuid_bytes(uuid);
  if (!b || ((*b)[6] >> 4) != 8 || ((*b)[8] >> 6) != 2) return std::nullopt;
  int bit = 0;
  const auto get = [&](int width) {
    unsigned v = 0;
    for (int k = 0; k < width; ++k) {
      while (version_or_variant_bit(bit)) ++bit;
      v = (v << 1) | (((*b)[bit / 8] >> (7 - bit % 8)) & 1U);
      ++bit;
    }
    return v;
  };
  const unsigned n = get(4);
  if (n == 0 || n > 14) return std::nullopt;
  std::string id;
  for (unsigned i = 0; i < 14; ++i) {
    const unsigned c = get(7);
    if (i < n)
      id.push_back(static_cast<char>(c));
    else if (c != 0)
      return std::nullopt;
  }
  if (!is_valid_message_id(id)) return std::nullopt;
  return id;
}

std::string native_id_for_uuid(std::string_view uuid) {
  if (auto id = native_id_in_uuid(uuid)) return *id;
  auto b = uuid_bytes(uuid);
  if (!b) return {};
  return "F" + uuid_text(*b).substr(0, 8) + uuid_text(*b).substr(9, 4) +
         uuid_text(*b).substr(14, 1);
}

Result<Envelope> fhir_to_native(const FhirMessage& m, TimePoint received_at,
                                std::string_view whole_as_json) {
  if (m.event != kEventCareCommunication && m.event != kEventHospitalNotification)
    return make_error(Errc::kUnsupportedType,
                      "FHIR message: only CareCommunication and HospitalNotification discharge "
                      "events have a native letter (and Acknowledgements a native receipt)");
  Envelope env;
  env.id = native_id_for_uuid(m.bundle_id);
  if (env.id.empty()) return invalid("Bundle/id: expected a UUID");
  env.sent = m.timestamp;
  env.positive_receipt_requested = true;  // MedCom FHIR messages are always acknowledged
  Letter l;
  l.id = native_id_for_uuid(m.header_id);
  if (l.id.empty()) return invalid("Bundle/entry[1]/MessageHeader/id: expected a UUID");
  l.authorised = m.timestamp;
  // Kept so that what goes back names the sender's own MessageHeader (ours are recomputed).
  if (!native_id_in_uuid(m.header_id)) l.fhir_message_id = m.header_id;
  l.sender = native_party(m.sender);
  l.receiver = native_party(m.receiver);
  if (m.patient.cpr.empty())
    return invalid("Bundle/Patient/identifier: no CPR number (required on the native letter)");
  l.patient = Patient{m.patient.cpr};

  if (m.event == kEventCareCommunication) {
    Correspondence c;
    c.subject = m.topic;
    for (const auto& p : m.payloads) {
      if (!p.url.empty() || !p.content_type.empty()) {
        AttachmentReference a;
        a.description = p.title.empty() ? p.content_type : p.title;
        a.url = p.url;
        if (a.url.empty())
          return make_error(Errc::kUnsupportedType,
                            "Bundle/Communication/payload: an attachment carried inline has no "
                            "native counterpart; only attachments by URL cross");
        c.attachments.push_back(std::move(a));
        continue;
      }
      if (!c.text.empty()) c.text.push_back('\n');
      c.text.append(text_from_content(p.text));
    }
    if (m.priority == "asap") c.priority = std::string(kHighPriority);
    c.patient_details.surname = m.patient.family;
    c.patient_details.given_name = m.patient.given;
    c.patient_details.address.street = m.patient.line;
    c.patient_details.address.suburb = m.patient.suburb;
    c.patient_details.address.district = m.patient.city;
    c.patient_details.address.post_code = m.patient.postal_code;
    if (c.subject.empty()) return invalid("Bundle/Communication/topic: missing (the subject)");
    if (c.text.empty()) return invalid("Bundle/Communication/payload: no text");
    l.body = std::move(c);
  } else if (m.event == kEventHospitalNotification) {
    const FhirProvenance* p = own_provenance(m);
    const auto [event, status] = split_activity(p ? p->activity : std::string());
    const auto stay_event = parse_hospital_stay_event(event);
    if (event != kDischarge && !stay_event)
      return make_error(Errc::kUnsupportedType,
                        "HospitalNotification: the Provenance activity is none of MedCom's "
                        "hospital-stay events (admit-inpatient, admit-emergency, "
                        "start-leave-inpatient, end-leave-inpatient, discharge-emergency-home, "
                        "discharge-inpatient-home, or their revise-/cancel- forms)");
    l.status = status;
    if (status != LetterStatus::kNew) {
      // The same native letter as the notification it revises or cancels.
      if (p->entities.empty())
        return invalid("Bundle/Provenance/entity: a revision names the message it revises");
      l.id = native_id_for_uuid(referenced_header_id(p->entities.front()));
      if (l.id.empty()) return invalid("Bundle/Provenance/entity/what: expected a MessageHeader");
    }
    if (stay_event) {
      HospitalStayNotice n;
      n.event = *stay_event;
      if (parse_timestamp(p->occurred)) n.event_time = p->occurred;
      n.stay_start = m.period_start;
      n.stay_end = m.period_end;
      n.encounter_status = m.encounter_status;
      n.encounter_class = m.encounter_class;
      n.department = m.sender.name;
      n.fhir_message = std::string(whole_as_json);
      while (!n.fhir_message.empty() && n.fhir_message.back() == '\n') n.fhir_message.pop_back();
      if (n.stay_start.empty())
        return invalid("Bundle/Encounter/period/start: missing (when the stay began)");
      l.body = std::move(n);
      env.letters.push_back(std::move(l));
      if (auto ok = validate_envelope(env, received_at); !ok) return ok.error();
      return env;
    }
    DischargeNotice n;
    auto admitted = fhir_date(m.period_start);
    if (!admitted) return invalid("Bundle/Encounter/period/start: expected a date");
    n.admission_date = *admitted;
    auto discharged = fhir_date(m.period_end);
    if (!discharged) {
      if (l.status != LetterStatus::kCancelled)
        return invalid("Bundle/Encounter/period/end: expected the discharge date");
      discharged = fhir_date(p->occurred);
      if (!discharged) return invalid("Bundle/Provenance/occurredDateTime: expected a dateTime");
    }
    n.discharge_date = *discharged;
    n.mentor_entitled = true;
    n.consent = false;
    n.department = m.sender.name;
    l.body = n;
  } else {
    return make_error(Errc::kUnsupportedType,
                      "FHIR message: only CareCommunication and HospitalNotification discharge "
                      "events have a native letter (and Acknowledgements a native receipt)");
  }
  env.letters.push_back(std::move(l));
  if (auto ok = validate_envelope(env, received_at); !ok) return ok.error();
  return env;
}

Result<FhirMessage> native_to_fhir(const Envelope& e) {
  if (e.letters.size() != 1)
    return make_error(
        Errc::kUnsupportedType,
        "a FHIR message carries one letter; this envelope has " + std::to_string(e.letters.size()));
  const Letter& l = e.letters.front();
  FhirMessage m;
  m.bundle_id = uuid_for_native_id(e.id);
  m.timestamp = e.sent;
  m.header_id = l.fhir_message_id.empty() ? uuid_for_native_id(l.id) : l.fhir_message_id;
  m.sender = fhir_party(l.sender);
  m.receiver = fhir_party(l.receiver);
  m.source_endpoint = sor_endpoint(l.sender.sor);
  m.destination_endpoint = sor_endpoint(l.receiver.sor);
  if (l.patient) m.patient.cpr = l.patient->cpr;
  FhirProvenance p;
  p.target = "MessageHeader/" + m.header_id;
  p.occurred = format_timestamp(l.authorised);
  if (const auto* c = std::get_if<Correspondence>(&l.body)) {
    m.event = std::string(kEventCareCommunication);
    m.category = "other";
    m.topic = c->subject;
    if (c->priority == kHighPriority) m.priority = "asap";
    m.payloads.push_back(FhirPayload{content_from_text(c->text), {}, {}, {}});
    for (const auto& a : c->attachments) {
      if (a.url.empty())
        return make_error(Errc::kUnsupportedType,
                          "Letter[1]: an attachment sent beside the letter (BIN/SUP) cannot be "
                          "named in a CareCommunication; only attachments by URL cross");
      m.payloads.push_back(FhirPayload{{}, "application/octet-stream", a.description, a.url});
    }
    m.patient.family = c->patient_details.surname;
    m.patient.given = c->patient_details.given_name;
    m.patient.line = c->patient_details.address.street;
    m.patient.suburb = c->patient_details.address.suburb;
    m.patient.city = c->patient_details.address.district;
    m.patient.postal_code = c->patient_details.address.post_code;
    p.activity = "new-message";
    if (l.status == LetterStatus::kCorrected) p.activity = "modified-message";
    if (l.status == LetterStatus::kCancelled) p.activity = "retract-message";
  } else if (const auto* n = std::get_if<DischargeNotice>(&l.body)) {
    m.event = std::string(kEventHospitalNotification);
    m.encounter_class = "IMP";
    m.encounter_status = l.status == LetterStatus::kCancelled ? "cancelled" : "finished";
    m.period_start = format_date(n->admission_date);
    m.period_end = format_date(n->discharge_date);
    // The department is the sender Organization's name (read back as the department): the
    // hospital unit that discharged, so it is not lost on the way to FHIR (issue 9).
    if (!n->department.empty()) m.sender.name = n->department;
    p.activity = std::string(kDischarge);
    if (l.status == LetterStatus::kCorrected) p.activity = "revise-" + std::string(kDischarge);
    if (l.status == LetterStatus::kCancelled) p.activity = "cancel-" + std::string(kDischarge);
    if (l.status != LetterStatus::kNew) {
      // A revision is a new message that names the notice it revises.
      if (l.fhir_message_id.empty()) m.header_id = uuid_for_native_id(l.id.substr(0, 12) + ".r");
      p.target = "MessageHeader/" + m.header_id;
      p.entities.push_back("MessageHeader/" + uuid_for_native_id(l.id));
    }
  } else if (const auto* s = std::get_if<HospitalStayNotice>(&l.body)) {
    m.event = std::string(kEventHospitalNotification);
    const bool emergency = s->event == HospitalStayEvent::kAdmitEmergency ||
                           s->event == HospitalStayEvent::kDischargeEmergency;
    m.encounter_class = !s->encounter_class.empty() ? s->encounter_class
                        : emergency                 ? "EMER"
                                                    : "IMP";
    m.encounter_status = s->encounter_status;
    if (m.encounter_status.empty()) {
      m.encounter_status = s->event == HospitalStayEvent::kStartLeave           ? "onleave"
                           : s->event == HospitalStayEvent::kDischargeEmergency ? "finished"
                                                                                : "in-progress";
      if (l.status == LetterStatus::kCancelled) m.encounter_status = "cancelled";
    }
    m.period_start = s->stay_start;
    m.period_end = s->stay_end;
    if (!s->department.empty()) m.sender.name = s->department;  // as for the DischargeNotice
    p.activity = activity_for(to_string(s->event), l.status);
    if (!s->event_time.empty()) p.occurred = s->event_time;
    if (l.status != LetterStatus::kNew) {
      if (l.fhir_message_id.empty()) m.header_id = uuid_for_native_id(l.id.substr(0, 12) + ".r");
      p.target = "MessageHeader/" + m.header_id;
      p.entities.push_back("MessageHeader/" + uuid_for_native_id(l.id));
    }
  } else {
    return make_error(Errc::kUnsupportedType, "FHIR has no MedCom message for " +
                                                  std::string(to_string(l.type())) +
                                                  "; the receiver cannot be sent this letter");
  }
  m.provenances.push_back(std::move(p));
  return m;
}

}  // namespace sektorbro::adapters
