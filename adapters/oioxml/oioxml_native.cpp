#include "adapters/oioxml/oioxml_native.hpp"

#include <algorithm>
#include <array>
#include <utility>
#include <variant>

#include "broker/codec/validation.hpp"
#include "broker/core/identifiers.hpp"

namespace sektorbro::adapters {
namespace {

// The MedCom IdentifierCode values the native model (and its schema) knows (domain.md §2).
constexpr std::array<std::string_view, 6> kNativeIdentifierCodes{
    "kommunenummer", "sygehusafdelingsnummer", "lokationsnummer", "ydernummer", "amt", "sorkode"};
constexpr std::string_view kSorCode = "sorkode";

Error invalid(std::string detail) { return make_error(Errc::kInvalid, std::move(detail)); }

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool alnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// A MedCom code (TypeCode, VersionCode) as the native schema takes it: 1-20 letters and digits.
bool native_medcom_code(std::string_view s) {
  return !s.empty() && s.size() <= 20 && std::all_of(s.begin(), s.end(), alnum);
}

// A code fit to quote in an error detail: MedCom codes start with a letter and are short, so a
// value that could be a CPR number (ten digits) is never quoted.
bool quotable_code(std::string_view s) {
  return !s.empty() && s.size() <= 10 && std::all_of(s.begin(), s.end(), alnum) &&
         !(s.front() >= '0' && s.front() <= '9');
}

bool letters_only(std::string_view s) {
  return !s.empty() && s.size() <= 40 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
}

bool known_identifier_code(std::string_view code) {
  return std::find(kNativeIdentifierCodes.begin(), kNativeIdentifierCodes.end(), code) !=
         kNativeIdentifierCodes.end();
}

// "Emessage/ClinicalEmail[2]", as the OIOXML parser names letters.
std::string letter_path(const OioxmlLetter& l, std::size_t index) {
  return "Emessage/" + (letters_only(l.element) ? l.element : std::string("letter")) + "[" +
         std::to_string(index + 1) + "]";
}

Party native_party(const OioxmlParty& p) {
  Party out;
  out.gln = p.ean;
  if (known_identifier_code(p.identifier_code) && !p.identifier.empty()) {
    out.identifier_code = p.identifier_code;
    out.identifier = p.identifier;
    if (p.identifier_code == kSorCode && p.identifier.size() <= 20 && all_digits(p.identifier))
      out.sor = p.identifier;
  }
  out.name = p.organisation_name;
  return out;
}

PartyDetails native_details(const OioxmlParty& p) {
  PartyDetails d;
  d.department = p.department_name;
  d.unit = p.unit_name;
  d.address = p.address;
  d.phone = p.phone;
  d.speciality_code = p.speciality_code;
  return d;
}

void apply_details(OioxmlParty& p, const PartyDetails& d) {
  p.department_name = d.department;
  p.unit_name = d.unit;
  p.address = d.address;
  p.phone = d.phone;
  p.speciality_code = d.speciality_code;
}

// Only a GLN can be routed: an EANIdentifier MedCom allows (1–35 characters) that is not one
// names no endpoint of the broker (MedCom: ukendt_lokationsnummer for the receiver).
Result<void> routable(const OioxmlLetter& l, const std::string& path) {
  if (!is_valid_gln(l.receiver.ean))
    return make_error(Errc::kUnknownReceiver,
                      path + "/Receiver/EANIdentifier: not a GLN, so no endpoint has it");
  if (!is_valid_gln(l.sender.ean))
    return make_error(Errc::kUnknownSender,
                      path + "/Sender/EANIdentifier: not a GLN, so no endpoint has it");
  return {};
}

OioxmlParty oioxml_party(const Party& p) {
  OioxmlParty out;
  out.ean = p.gln;
  if (!p.identifier_code.empty() && !p.identifier.empty()) {
    out.identifier_code = p.identifier_code;
    out.identifier = p.identifier;
  } else if (!p.sor.empty()) {
    out.identifier_code = std::string(kSorCode);
    out.identifier = p.sor;
  }
  out.organisation_name = p.name;
  return out;
}

// Why a letter that is neither XDIS91 nor a receipt cannot cross.
Error unsupported_oioxml(const OioxmlLetter& l, const std::string& path) {
  std::string what = "OIOXML letter";
  if (letters_only(l.element)) what += " " + l.element;
  const std::string& code = !l.type_code.empty() ? l.type_code : l.statistical_code;
  if (quotable_code(code))
    what += " (MedCom type " + code + ")";
  else if (!code.empty())
    what += " (an unreadable MedCom type code)";
  return make_error(Errc::kUnsupportedType,
                    path + ": " + what +
                        " has no native counterpart; only XDIS91 correspondence and "
                        "XCTL01/02/03 receipts cross");
}

Result<Letter> correspondence_to_native(const OioxmlEmessage& m, const OioxmlLetter& l,
                                        const std::string& path) {
  Letter out;
  if (!is_valid_message_id(l.id))
    return invalid(path +
                   "/Letter/Identifier: not a native identifier (1-14 of A-Z a-z 0-9 . _ -)");
  out.id = l.id;
  if (l.status_code.empty()) {
    out.status = LetterStatus::kNew;
  } else if (auto s = parse_letter_status(l.status_code)) {
    out.status = *s;
  } else {
    return invalid(path + "/Letter/StatusCode: expected nytbrev, rettetbrev or annulleretbrev");
  }
  out.authorised = l.authorised.value_or(m.sent);
  out.sender = native_party(l.sender);
  out.receiver = native_party(l.receiver);
  if (l.patient_cpr.empty())
    return invalid(path + "/Patient/CivilRegistrationNumber: missing (required on Correspondence)");
  if (!is_valid_cpr(l.patient_cpr))
    return invalid(path +
                   "/Patient/CivilRegistrationNumber: expected DDMMYYSSSS with a possible day "
                   "and month");
  out.patient = Patient{l.patient_cpr};

  Correspondence c;
  if (l.subject.empty())
    return invalid(path + "/AdditionalInformation/Subject: missing (the native letter needs one)");
  if (l.text.empty())
    return invalid(path + "/ClinicalInformation: no text (the native letter needs one)");
  c.subject = l.subject;
  c.text = l.text;
  c.priority = l.priority;
  c.formatted_text = l.formatted_text;
  c.episode_of_care_id = l.episode_of_care_id;
  c.attachments = l.references;
  c.sender_details = native_details(l.sender);
  c.receiver_details = native_details(l.receiver);
  c.patient_details.surname = l.patient_surname;
  c.patient_details.given_name = l.patient_given_name;
  c.patient_details.address = l.patient_address;
  c.patient_details.occupancy = l.patient_occupancy;
  c.patient_details.episode_of_care_status = l.episode_of_care_status;
  c.medcom_type_code = std::string(kXdis91TypeCode);
  if (!l.version_code.empty()) {
    if (!native_medcom_code(l.version_code))
      return invalid(path + "/Letter/VersionCode: expected 1-20 letters and digits");
    c.medcom_version_code = l.version_code;
  }
  out.body = std::move(c);
  return out;
}

bool is_xdis91(const OioxmlLetter& l) {
  return l.kind == OioxmlLetterKind::kClinicalEmail &&
         (l.type_code.empty() || l.type_code == kXdis91TypeCode);
}

bool valid_oioxml_id(std::string_view id) { return !id.empty() && id.size() <= 14; }

Result<OioxmlLetter> correspondence_to_oioxml(const Letter& l, const Correspondence& c,
                                              const std::string& path) {
  if (!c.medcom_type_code.empty() && c.medcom_type_code != kXdis91TypeCode)
    return invalid(path + "/TypeCode: a Correspondence is written as XDIS91 only");
  if (!l.patient) return invalid(path + ": missing Patient (required on Correspondence)");
  // MedCom's schema requires these on XDIS91; they are never made up (issue 9).
  if (c.patient_details.surname.empty() || c.patient_details.episode_of_care_status.empty())
    return make_error(Errc::kUnsupportedType,
                      path +
                          ": OIOXML XDIS91 needs the patient's surname and episode-of-care status "
                          "(MedCom's schema), and this letter has none");
  if (l.sender.name.empty())
    return make_error(Errc::kUnsupportedType,
                      path + ": OIOXML XDIS91 needs the sender's OrganisationName");
  OioxmlLetter out;
  out.kind = OioxmlLetterKind::kClinicalEmail;
  out.element = std::string(element_name(out.kind));
  out.id = l.id;
  out.version_code =
      c.medcom_version_code.empty() ? std::string(kXdis91VersionCode) : c.medcom_version_code;
  out.statistical_code = std::string(kXdis91TypeCode);
  out.authorised = l.authorised;
  out.type_code = std::string(kXdis91TypeCode);
  out.status_code = std::string(to_string(l.status));
  out.sender = oioxml_party(l.sender);
  out.receiver = oioxml_party(l.receiver);
  apply_details(out.sender, c.sender_details);
  apply_details(out.receiver, c.receiver_details);
  out.episode_of_care_id = c.episode_of_care_id;
  out.patient_cpr = l.patient->cpr;
  out.patient_surname = c.patient_details.surname;
  out.patient_given_name = c.patient_details.given_name;
  out.patient_address = c.patient_details.address;
  out.patient_occupancy = c.patient_details.occupancy;
  out.episode_of_care_status = c.patient_details.episode_of_care_status;
  out.priority = c.priority;
  out.subject = c.subject;
  out.text = c.text;
  out.formatted_text = c.formatted_text;
  out.references = c.attachments;
  return out;
}

}  // namespace

Result<Envelope> oioxml_to_native(const OioxmlEmessage& m, TimePoint received_at) {
  if (m.letters.empty()) return invalid("Emessage: no letter");
  if (!is_valid_message_id(m.envelope_id))
    return invalid(
        "Emessage/Envelope/Identifier: not a native identifier (1-14 of A-Z a-z 0-9 . _ -)");
  const bool receipts = is_receipt(m.letters.front().kind);
  for (std::size_t i = 0; i < m.letters.size(); ++i) {
    const OioxmlLetter& l = m.letters[i];
    const std::string path = letter_path(l, i);
    if (!is_receipt(l.kind) && !is_xdis91(l)) return unsupported_oioxml(l, path);
    if (auto r = routable(l, path); !r) return r.error();
    if (is_receipt(l.kind) != receipts)
      return invalid(path + ": receipts must not share an envelope with other letters");
  }

  Envelope env;
  env.id = m.envelope_id;
  env.sent = m.sent;
  if (receipts) {
    auto letters = receipts_to_native(m);
    if (!letters) return letters.error();
    for (std::size_t i = 0; i < letters->size(); ++i) {
      const Letter& r = (*letters)[i];
      if (!is_valid_message_id(r.id))
        return invalid(letter_path(m.letters[i], i) +
                       "/Letter/Identifier: not a native identifier (1-14 of A-Z a-z 0-9 . _ -)");
    }
    env.positive_receipt_requested = false;  // receipts are never receipted (domain.md §3)
    env.letters = std::move(*letters);
  } else {
    env.positive_receipt_requested = m.positive_receipt_requested;
    for (std::size_t i = 0; i < m.letters.size(); ++i) {
      auto letter = correspondence_to_native(m, m.letters[i], letter_path(m.letters[i], i));
      if (!letter) return letter.error();
      env.letters.push_back(std::move(*letter));
    }
  }
  for (std::size_t i = 1; i < env.letters.size(); ++i) {
    const std::string path = letter_path(m.letters[i], i);
    for (std::size_t j = 0; j < i; ++j)
      if (env.letters[j].id == env.letters[i].id)
        return invalid(path + "/Letter/Identifier: letter identifier repeated within the envelope");
    if (env.letters[i].sender.gln != env.letters[0].sender.gln)
      return invalid(path +
                     "/Sender/EANIdentifier: all letters of an envelope must have the "
                     "same sender");
    if (env.letters[i].receiver.gln != env.letters[0].receiver.gln)
      return invalid(path +
                     "/Receiver/EANIdentifier: all letters of an envelope must have the "
                     "same receiver");
  }
  if (auto ok = validate_envelope(env, received_at); !ok) return ok.error();
  return env;
}

Result<OioxmlEmessage> receipt_from_native_reference(const Letter& receipt,
                                                     const OioxmlReceiptIds& ids,
                                                     std::string_view original_version_code) {
  const ReceiptReference* ref = nullptr;
  if (const auto* pos = std::get_if<PositiveReceipt>(&receipt.body)) ref = &pos->original;
  const auto* neg = std::get_if<NegativeReceipt>(&receipt.body);
  if (neg != nullptr) ref = &neg->original;
  if (ref == nullptr) return invalid("receipt: not a receipt letter");
  if (!valid_oioxml_id(ref->original_envelope_id))
    return invalid("receipt: OriginalEnvelopeIdentifier: expected 1-14 characters");

  // The original as far as the reference tells it; build_* take their fields from it.
  OioxmlEmessage original;
  original.envelope_id = ref->original_envelope_id;
  OioxmlLetter shell;
  shell.sender.ean = receipt.receiver.gln;
  shell.receiver.ean = receipt.sender.gln;
  shell.version_code = std::string(original_version_code);
  for (const auto& id : ref->original_letter_ids) {
    if (!valid_oioxml_id(id))
      return invalid("receipt: OriginalLetterIdentifier: expected 1-14 characters");
    OioxmlLetter l = shell;
    l.id = id;
    original.letters.push_back(std::move(l));
  }
  if (neg != nullptr && ref->original_letter_ids.empty()) {
    // A refusal of the whole envelope: no OriginalLetter is written, but build_* want the
    // original's parties from a letter.
    original.letters.push_back(shell);
    OioxmlRefusal refusal{neg->code, neg->text, {}, true};
    return neg->level == ReceiptLevel::kNetwork ? build_network_receipt(original, refusal, ids)
                                                : build_negative_receipt(original, refusal, ids);
  }
  if (original.letters.empty())
    return invalid("receipt: a positive receipt names at least one original letter");
  return receipt_from_native(original, receipt, ids);
}

Result<OioxmlEmessage> native_to_oioxml_message(const Envelope& e,
                                                std::string_view original_version_code) {
  if (e.letters.empty()) return invalid("Emessage: an envelope carries at least one letter");
  if (!valid_oioxml_id(e.id)) return invalid("Envelope/Identifier: expected 1-14 characters");
  const bool receipts = is_receipt(e.letters.front().type());
  OioxmlEmessage out;
  out.sent = e.sent;
  out.envelope_id = e.id;
  for (std::size_t i = 0; i < e.letters.size(); ++i) {
    const Letter& l = e.letters[i];
    const std::string path = "Letter[" + std::to_string(i + 1) + "]";
    const LetterType type = l.type();
    if (!is_receipt(type) && type != LetterType::kCorrespondence)
      return make_error(Errc::kUnsupportedType, path + ": OIOXML has no MedCom standard for " +
                                                    std::string(to_string(type)) +
                                                    "; the receiver cannot be sent this letter");
    if (is_receipt(type) != receipts)
      return invalid(path + ": receipts must not share an envelope with other letters");
    if (!valid_oioxml_id(l.id)) return invalid(path + "/Identifier: expected 1-14 characters");
  }

  if (receipts) {
    out.namespace_uri = std::string(kOioxmlReceiptNamespace);
    out.positive_receipt_requested = false;
    for (std::size_t i = 0; i < e.letters.size(); ++i) {
      const Letter& l = e.letters[i];
      const OioxmlReceiptIds ids{e.id, l.id, e.sent, l.sender.gln};
      auto one = receipt_from_native_reference(l, ids, original_version_code);
      if (!one) {
        Error err = one.error();
        err.detail = "Letter[" + std::to_string(i + 1) + "]: " + err.detail;
        return err;
      }
      for (auto& r : one->letters) out.letters.push_back(std::move(r));
    }
    return out;
  }

  out.namespace_uri = std::string(kOioxmlNamespace20060701);
  out.positive_receipt_requested = e.positive_receipt_requested;
  for (std::size_t i = 0; i < e.letters.size(); ++i) {
    const Letter& l = e.letters[i];
    auto letter = correspondence_to_oioxml(l, std::get<Correspondence>(l.body),
                                           "Letter[" + std::to_string(i + 1) + "]");
    if (!letter) return letter.error();
    out.letters.push_back(std::move(*letter));
  }
  return out;
}

Result<std::string> native_to_oioxml(const Envelope& e, const OioxmlWriteOptions& options) {
  auto m = native_to_oioxml_message(e);
  if (!m) return m.error();
  return write_oioxml(*m, options);
}

}  // namespace sektorbro::adapters
