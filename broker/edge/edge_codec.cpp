#include "broker/edge/edge_codec.hpp"

#include <algorithm>

#include "adapters/fhir/fhir_json.hpp"
#include "adapters/fhir/fhir_native.hpp"
#include "adapters/fhir/fhir_receipts.hpp"
#include "adapters/oioxml/oioxml_codec.hpp"
#include "adapters/oioxml/oioxml_native.hpp"
#include "adapters/sbdh/sbdh_native.hpp"
#include "broker/codec/codec.hpp"
#include "broker/core/identifiers.hpp"
#include "broker/edge/well_formed_prefix.hpp"
#include "broker/xml/text_encoding.hpp"
#include "broker/xml/xml_builder.hpp"
#include "broker/xml/xml_document.hpp"

namespace sektorbro {
namespace {

constexpr std::string_view kOioxmlNamespace = "rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/";

// The root element's start tag: the first '<' that opens neither a declaration, a comment nor
// a processing instruction. Empty if there is none in the first 64 KiB.
std::string_view root_start_tag(std::string_view bytes) {
  std::size_t pos = 0;
  const std::size_t limit = std::min<std::size_t>(bytes.size(), 64 * 1024);
  while (pos < limit) {
    pos = bytes.find('<', pos);
    if (pos == std::string_view::npos || pos + 1 >= limit) return {};
    if (bytes.compare(pos, 4, "<!--") == 0) {
      pos = bytes.find("-->", pos);
      if (pos == std::string_view::npos) return {};
      continue;
    }
    if (bytes[pos + 1] == '?' || bytes[pos + 1] == '!') {
      ++pos;
      continue;
    }
    const std::size_t end = bytes.find('>', pos);
    if (end == std::string_view::npos) return {};
    return bytes.substr(pos, end - pos + 1);
  }
  return {};
}

// The first child element with this local name, whatever its namespace (lenient reading).
const XmlNode* local(const XmlNode* e, std::string_view name) {
  if (e == nullptr) return nullptr;
  for (const auto& c : e->children)
    if (c.name == name) return &c;
  return nullptr;
}

std::string local_text(const XmlNode* e, std::string_view name) {
  const XmlNode* c = local(e, name);
  return c == nullptr ? std::string{} : std::string(trim_space(c->text));
}

std::string local_value(const XmlNode* e, std::string_view name) {
  const XmlNode* c = local(e, name);
  if (c == nullptr) return {};
  const std::string* v = c->attribute("value");
  return v == nullptr ? std::string{} : *v;
}

std::string strip_0088(std::string s) {
  if (s.starts_with("0088:")) s.erase(0, 5);
  return s;
}

// What the refusal of a document needs, from its tree (any dialect, nothing validated).
OriginalIds original_ids_of(const XmlNode& root) {
  OriginalIds o;
  if (root.name == "Emessage") {
    o.envelope_id = local_text(local(&root, "Envelope"), "Identifier");
    for (const auto& c : root.children) {
      if (c.name == "Envelope") continue;
      const XmlNode* head = local(&c, "Letter");
      if (root.ns == kNamespace) {  // native: <Letter><Identifier/>…<Sender><GLN/>
        if (c.name != "Letter") continue;
        head = &c;
        if (o.sender_gln.empty()) {
          o.sender_gln = local_text(local(&c, "Sender"), "GLN");
          o.sender_sor = local_text(local(&c, "Sender"), "SOR");
        }
      } else if (o.sender_gln.empty()) {
        const XmlNode* sender = local(&c, "Sender");
        o.sender_gln = local_text(sender, "EANIdentifier");
        if (local_text(sender, "IdentifierCode") == "sorkode")
          o.sender_sor = local_text(sender, "Identifier");
      }
      const std::string id = local_text(head, "Identifier");
      if (!id.empty()) o.letter_ids.push_back(id);
    }
  } else if (root.name == "StandardBusinessDocument") {
    const XmlNode* header = local(&root, "StandardBusinessDocumentHeader");
    o.sender_gln = strip_0088(local_text(local(header, "Sender"), "Identifier"));
    o.envelope_id = local_text(local(header, "DocumentIdentification"), "InstanceIdentifier");
  } else if (root.name == "Bundle") {
    o.envelope_id = adapters::native_id_for_uuid(local_value(&root, "id"));
    const XmlNode* header = local(local(local(&root, "entry"), "resource"), "MessageHeader");
    o.fhir_header_id = local_value(header, "id");
    const std::string letter = adapters::native_id_for_uuid(o.fhir_header_id);
    if (!letter.empty()) o.letter_ids.push_back(letter);
  }
  return o;
}

// --- reading a document that is not well-formed (cut off, broken) ----------------------------
// Only identifiers are taken from such bytes, only from the well-formed prefix
// (walk_well_formed_prefix: nothing past the first fault) and only when their element closed
// there and they are made of identifier characters: never message content, never a CPR number
// (an identifier is at most 100 characters of [A-Za-z0-9._:-]).

bool identifier_like(std::string_view v) {
  if (v.empty() || v.size() > 100) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

// The element's text, if identifier-like.
std::string id_text(const PrefixElement& e) {
  const std::string_view v = trim_space(e.text);
  return identifier_like(v) ? std::string(v) : std::string{};
}

// The element's value="…" (FHIR's primitives), if identifier-like.
std::string id_value(const PrefixElement& e) {
  return identifier_like(e.value) ? std::string(e.value) : std::string{};
}

// Whether the element's path is exactly `path` (local names from the root).
bool is_at(const PrefixElement& e, std::initializer_list<std::string_view> path) {
  return std::equal(e.path.begin(), e.path.end(), path.begin(), path.end());
}

// A native or OIOXML Emessage as far as it is well-formed: Envelope/Identifier, each letter's
// Identifier and the first letter's Sender (native Sender/GLN and SOR; OIOXML
// Sender/EANIdentifier, and Identifier when its IdentifierCode is sorkode).
//   native  Emessage/Letter/{Identifier, Sender/{GLN, SOR}}
//   oioxml  Emessage/<ClinicalEmail…>/{Letter/Identifier, Sender/{EANIdentifier, Identifier,
//           IdentifierCode}}
OriginalIds lenient_emessage(std::string_view bytes, bool native) {
  OriginalIds o;
  int sender_no = 0;  // Senders closed so far
  int gln_from = -1;  // the Sender the GLN was taken from
  std::string oio_identifier;
  walk_well_formed_prefix(bytes, [&](const PrefixElement& e) {
    const auto& p = e.path;
    if (p.front() != "Emessage") return false;
    if (is_at(e, {"Emessage", "Envelope", "Identifier"})) {
      if (o.envelope_id.empty()) o.envelope_id = id_text(e);
      return true;
    }
    // The letter's part below Emessage: native Letter, OIOXML the type element (not Envelope);
    // the Sender is its child in both.
    constexpr std::size_t d = 2;
    if (p.size() <= 1 || (native ? p[1] != "Letter" : p[1] == "Envelope")) return true;
    const bool letter_id = native ? (p.size() == 3 && p[2] == "Identifier")
                                  : (p.size() == 4 && p[2] == "Letter" && p[3] == "Identifier");
    if (letter_id) {
      if (std::string id = id_text(e); !id.empty()) o.letter_ids.push_back(std::move(id));
      return true;
    }
    if (p.size() <= d || p[d] != "Sender") return true;
    if (p.size() == d + 1) {  // the Sender closed
      ++sender_no;
      oio_identifier.clear();
      return true;
    }
    if (p.size() != d + 2) return true;
    const std::string_view field = p[d + 1];
    if (field == (native ? "GLN" : "EANIdentifier") && o.sender_gln.empty()) {
      o.sender_gln = id_text(e);
      if (!o.sender_gln.empty()) gln_from = sender_no;
    } else if (gln_from == sender_no && o.sender_sor.empty()) {
      if (native && field == "SOR") o.sender_sor = id_text(e);
      if (!native && field == "Identifier") oio_identifier = id_text(e);
      if (!native && field == "IdentifierCode" && trim_space(e.text) == "sorkode")
        o.sender_sor = oio_identifier;
    }
    return true;
  });
  return o;
}

// An SBDH header as far as the bytes tell: the parties, the envelope's identification and the
// BusinessScope ids the broker's ReceiptException names. Type is left out (a cut-off envelope
// receipt is answered like any other envelope here).
adapters::SbdhDocument lenient_sbdh(std::string_view bytes) {
  adapters::SbdhDocument d;
  // The header comes before the payload: only the first 256 KiB are looked at, and at most 64
  // scopes; the walk ends with the header.
  PrefixLimits limits;
  limits.max_bytes = 256 * 1024;
  int scopes = 0;
  std::string scope_type;
  std::string scope_id;
  walk_well_formed_prefix(
      bytes,
      [&](const PrefixElement& e) {
        const auto& p = e.path;
        if (p.size() < 3 || p[0] != "StandardBusinessDocument" ||
            p[1] != "StandardBusinessDocumentHeader")
          return false;
        const std::string_view part = p[2];
        if (p.size() == 4 && (part == "Sender" || part == "Receiver") && p[3] == "Identifier") {
          std::string& gln = part == "Sender" ? d.sender_gln : d.receiver_gln;
          std::string read = strip_0088(id_text(e));
          if (gln.empty() && is_valid_gln(read)) gln = std::move(read);
        } else if (p.size() == 4 && part == "DocumentIdentification") {
          if (p[3] == "Standard") d.standard = id_text(e);
          if (p[3] == "TypeVersion") d.type_version = id_text(e);
          if (p[3] == "InstanceIdentifier") d.instance_id = id_text(e);
          if (p[3] == "CreationDateAndTime")
            if (auto t = parse_timestamp(trim_space(e.text))) d.created = *t;
        } else if (p.size() == 5 && part == "BusinessScope" && p[3] == "Scope") {
          if (p[4] == "Type") scope_type = id_text(e);
          if (p[4] == "InstanceIdentifier") scope_id = id_text(e);
        } else if (p.size() == 4 && part == "BusinessScope" && p[3] == "Scope") {
          // <Scope><Type>SENDERID</Type><InstanceIdentifier>…</InstanceIdentifier>…
          if (++scopes > 64) return false;
          if (scope_type == "SENDERID") d.sender_sor = scope_id;
          if (scope_type == "RECEIVERID") d.receiver_sor = scope_id;
          if (scope_type == "MESSAGEIDENTIFIER") d.message_id = scope_id;
          if (scope_type == "MESSAGEENVELOPEIDENTIFIER") d.message_envelope_id = scope_id;
          scope_type.clear();
          scope_id.clear();
        }
        return true;
      },
      limits);
  return d;
}

// The ids of a FHIR message as far as the bytes tell: Bundle.id and the id of the MessageHeader
// in the first entry (MedCom: the MessageHeader comes first).
void lenient_fhir_ids(std::string_view bytes, OriginalIds& o) {
  walk_well_formed_prefix(bytes, [&](const PrefixElement& e) {
    if (e.path.front() != "Bundle") return false;
    if (is_at(e, {"Bundle", "id"}) && o.envelope_id.empty())
      o.envelope_id = adapters::native_id_for_uuid(id_value(e));
    if (is_at(e, {"Bundle", "entry", "resource", "MessageHeader", "id"})) {
      if (o.fhir_header_id.empty()) o.fhir_header_id = id_value(e);
      const std::string letter = adapters::native_id_for_uuid(o.fhir_header_id);
      if (!letter.empty() && o.letter_ids.empty()) o.letter_ids.push_back(letter);
      return false;
    }
    return !is_at(e, {"Bundle", "entry"});  // the first entry had no MessageHeader.id
  });
}

// A MedCom FHIR message (plain or from an SBDH payload) into `in`.
Result<void> decode_fhir(std::string_view bytes, TimePoint now, Inbound& in) {
  if (adapters::fhir_event_of(bytes) == adapters::kEventAcknowledgement ||
      adapters::fhir_event_of(bytes) == "acknowledgment-message") {
    auto ack = adapters::parse_fhir_acknowledgement(bytes);
    if (!ack) return ack.error();
    ReceiptReference ref;
    ref.original_envelope_id = "ukendt";  // FHIR names the message, not its envelope
    const std::string original = adapters::native_id_for_uuid(ack->response_identifier);
    if (original.empty())
      return make_error(Errc::kInvalid, "Bundle/MessageHeader/response/identifier: not a UUID");
    ref.original_letter_ids.push_back(original);
    const std::string letter_id = adapters::native_id_for_uuid(ack->header_id);
    if (letter_id.empty())
      return make_error(Errc::kInvalid, "Bundle/entry[1]/MessageHeader/id: not a UUID");
    auto native = adapters::ack_to_native(*ack, ref, letter_id);
    if (!native) return native.error();
    in.fhir_transient = native->outcome == adapters::AckOutcome::kTransient;
    if (native->receipt) {
      Envelope env;
      env.id = adapters::native_id_for_uuid(ack->bundle_id);
      if (env.id.empty()) return make_error(Errc::kInvalid, "Bundle/id: not a UUID");
      env.sent = ack->timestamp;
      env.letters.push_back(std::move(*native->receipt));
      in.envelope = std::move(env);
    }
    in.fhir_ack = std::move(*ack);
    return {};
  }
  auto message = adapters::parse_fhir_message(bytes);
  if (!message) return message.error();
  // The whole message as FHIR JSON, which a HospitalStayNotice keeps (nothing of it is lost);
  // the same text for the XML and the JSON form of one message.
  std::string whole;
  if (message->event == adapters::kEventHospitalNotification)
    if (auto json = adapters::fhir_xml_to_json(bytes)) whole = std::move(*json);
  auto envelope = adapters::fhir_to_native(*message, now, whole);
  if (!envelope) return envelope.error();
  in.envelope = std::move(*envelope);
  in.fhir_message = std::move(*message);
  return {};
}

}  // namespace

bool sniff_fhir(std::string_view bytes) {
  const std::string_view tag = root_start_tag(bytes);
  const auto name_end = tag.find_first_of(" \t\r\n/>");
  const std::string_view name = tag.substr(0, name_end);
  return (name == "<Bundle" || name.ends_with(":Bundle")) &&
         tag.find("http://hl7.org/fhir") != std::string_view::npos;
}

Inbound read_leniently(std::string_view bytes) {
  if (adapters::looks_like_json(bytes)) {
    // FHIR JSON: read as its XML form when it converts; a JSON sender either way.
    auto xml = adapters::fhir_json_to_xml(bytes);
    Inbound in = xml ? read_leniently(*xml) : Inbound{};
    in.fhir = true;
    in.fhir_json = true;
    return in;
  }
  Inbound in;
  in.dialect = sniff_dialect(bytes);
  in.fhir = sniff_fhir(bytes);
  auto decoded = decode_document(bytes);
  auto tree = decoded ? parse_xml_document(decoded->utf8)
                      : Result<XmlNode>(make_error(Errc::kMalformed, "not decoded"));
  if (tree) {
    in.original = original_ids_of(*tree);
  } else if (!in.fhir && in.dialect != Dialect::kSbdh) {
    // Issue 9: a damaged native or OIOXML document is refused to its sender, naming its
    // envelope and letters, as far as it is well-formed.
    in.original = lenient_emessage(bytes, in.dialect == Dialect::kNative);
  }
  if (in.dialect == Dialect::kSbdh) {
    // Issue 9: an SBDH sender is answered with a ReceiptException even when its envelope does
    // not parse (cut off, not well-formed, a required part missing): the header as far as the
    // bytes tell addresses it.
    auto sbdh = adapters::parse_sbdh(bytes);
    adapters::SbdhDocument header = sbdh ? std::move(*sbdh) : lenient_sbdh(bytes);
    if (!header.message_envelope_id.empty()) in.original.envelope_id = header.message_envelope_id;
    if (!header.message_id.empty()) in.original.letter_ids = {header.message_id};
    if (in.original.envelope_id.empty()) in.original.envelope_id = header.instance_id;
    if (in.original.sender_gln.empty()) in.original.sender_gln = header.sender_gln;
    in.original.sender_sor = header.sender_sor;
    in.sbdh = std::move(header);
  }
  if (in.fhir && !tree) lenient_fhir_ids(bytes, in.original);
  return in;
}

Dialect sniff_dialect(std::string_view bytes) {
  const std::string_view tag = root_start_tag(bytes);
  if (tag.find("StandardBusinessDocument") != std::string_view::npos &&
      tag.find("StandardBusinessDocument") < tag.find_first_of(" \t\r\n/>"))
    return Dialect::kSbdh;
  if (tag.find("Emessage") != std::string_view::npos &&
      tag.find(kOioxmlNamespace) != std::string_view::npos)
    return Dialect::kOioxml;
  return Dialect::kNative;
}

Result<Inbound> decode_inbound(std::string_view bytes, TimePoint now) {
  if (adapters::looks_like_json(bytes)) {
    // MedCom FHIR as application/fhir+json: the same message as its XML form (issue 9).
    auto xml = adapters::fhir_json_to_xml(bytes);
    if (!xml) return xml.error();
    if (!sniff_fhir(*xml))
      return make_error(Errc::kInvalid, "(root): a FHIR JSON message must be a Bundle");
    auto in = decode_inbound(*xml, now);
    if (in) in->fhir_json = true;
    return in;
  }
  Inbound in;
  in.dialect = sniff_dialect(bytes);
  in.fhir = sniff_fhir(bytes);
  if (in.fhir) {
    if (auto r = decode_fhir(bytes, now, in); !r) return r.error();
    if (in.fhir_message) in.original.fhir_header_id = in.fhir_message->header_id;
    if (in.fhir_ack) in.original.fhir_header_id = in.fhir_ack->header_id;
    return in;
  }
  switch (in.dialect) {
    case Dialect::kNative: {
      auto envelope = decode_envelope(bytes);
      if (!envelope) return envelope.error();
      in.envelope = std::move(*envelope);
      return in;
    }
    case Dialect::kOioxml: {
      auto document = adapters::parse_oioxml(bytes);
      if (!document) return document.error();
      auto envelope = adapters::oioxml_to_native(document->message, now);
      if (!envelope) return envelope.error();
      in.envelope = std::move(*envelope);
      return in;
    }
    case Dialect::kSbdh: {
      auto document = adapters::parse_sbdh(bytes);
      if (!document) return document.error();
      if (adapters::is_envelope_receipt(*document)) {
        auto signal = adapters::read_signal(*document);
        if (!signal) return signal.error();
        in.signal_original_envelope_id = !document->original_envelope_id.empty()
                                             ? document->original_envelope_id
                                             : signal->original_message_id;
        in.signal = std::move(*signal);
      } else {
        // EHMI carries native, classic OIOXML and FHIR payloads (issue 9).
        std::string payload = document->payload;
        if (adapters::looks_like_json(payload)) {  // mimeType application/fhir+json
          auto xml = adapters::fhir_json_to_xml(payload);
          if (!xml) return xml.error();
          payload = std::move(*xml);
        }
        if (sniff_fhir(payload)) {
          Inbound inner;
          if (auto r = decode_fhir(payload, now, inner); !r) return r.error();
          in.envelope = std::move(inner.envelope);
          in.fhir_message = std::move(inner.fhir_message);
          in.fhir_ack = std::move(inner.fhir_ack);
          in.fhir_transient = inner.fhir_transient;
        } else if (sniff_dialect(payload) == Dialect::kOioxml) {
          auto oioxml = adapters::parse_oioxml(payload);
          if (!oioxml) return oioxml.error();
          auto envelope = adapters::oioxml_to_native(oioxml->message, now);
          if (!envelope) return envelope.error();
          in.envelope = std::move(*envelope);
        } else {
          auto envelope = adapters::unwrap_native_envelope(*document);
          if (!envelope) return envelope.error();
          in.envelope = std::move(*envelope);
        }
        // The EHMI envelope and the letters inside must name the same sender and receiver.
        if (in.envelope && !in.envelope->letters.empty()) {
          const Letter& first = in.envelope->letters.front();
          if (first.sender.gln != document->sender_gln)
            return make_error(Errc::kInvalid,
                              "StandardBusinessDocumentHeader/Sender: not the payload's sender");
          if (first.receiver.gln != document->receiver_gln)
            return make_error(Errc::kInvalid,
                              "StandardBusinessDocumentHeader/Receiver: not the payload's "
                              "receiver");
        }
      }
      in.sbdh = std::move(*document);
      return in;
    }
    default:
      break;
  }
  return make_error(Errc::kMalformed, "unknown dialect");
}

std::vector<std::string> signal_envelope_candidates(const Inbound& inbound) {
  std::vector<std::string> out;
  if (!inbound.signal) return out;
  const auto add = [&](const std::string& id) {
    if (!id.empty() && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  };
  if (inbound.sbdh) {
    add(inbound.sbdh->original_envelope_id);
    add(inbound.sbdh->receipt.requesting_document_id);
  }
  add(inbound.signal->original_message_id);
  return out;
}

Result<void> check_signal_reference(const Inbound& inbound, bool sent) {
  if (!inbound.signal) return make_error(Errc::kInvalid, "not an EHMI envelope receipt");
  if (!sent)
    return make_error(
        Errc::kUnknownReference,
        std::string(inbound.signal->exception ? "ReceiptException" : "ReceiptAcknowledgement") +
            " for envelope " + inbound.signal_original_envelope_id +
            ", which the broker did not send");
  return {};
}

Result<void> can_carry(const Letter& letter, Dialect dialect, bool fhir) {
  const std::string type(to_string(letter.type()));
  if (fhir || dialect == Dialect::kFhir) {
    // MedCom's HospitalNotification has no element for the citizen's consent (its profile and
    // the MedCom facts in domain.md name none; Sektorbro invents no MedCom extension), and
    // clinical content is never dropped silently (issue 9): a notice that says the citizen
    // consented is refused at the door with problem_med_version. One without consent loses
    // nothing (FHIR reads back as no consent).
    if (const auto* notice = std::get_if<DischargeNotice>(&letter.body);
        notice != nullptr && notice->consent)
      return make_error(Errc::kUnsupportedType,
                        "MedCom's HospitalNotification has no place for the citizen's consent, "
                        "which this DischargeNotice records; the receiver speaks fhir");
    if (letter.type() == LetterType::kCorrespondence ||
        letter.type() == LetterType::kDischargeNotice ||
        letter.type() == LetterType::kHospitalStayNotice || is_receipt(letter.type()))
      return {};
    return make_error(Errc::kUnsupportedType,
                      "FHIR has no MedCom message for " + type + "; the receiver speaks fhir");
  }
  if (!expressible(letter.type(), dialect))
    return make_error(Errc::kUnsupportedType, "OIOXML has no MedCom standard for " + type);
  if (dialect == Dialect::kOioxml) {
    if (const auto* c = std::get_if<Correspondence>(&letter.body)) {
      if (c->patient_details.surname.empty() || c->patient_details.episode_of_care_status.empty())
        return make_error(Errc::kUnsupportedType,
                          "the receiver speaks OIOXML, whose XDIS91 needs the patient's surname "
                          "and episode-of-care status; the letter has none");
      if (letter.sender.name.empty())
        return make_error(Errc::kUnsupportedType,
                          "the receiver speaks OIOXML, whose XDIS91 needs the sender's name");
    }
  }
  return {};
}

bool expressible(LetterType type, Dialect dialect) {
  switch (dialect) {
    case Dialect::kNative:
      return true;
    case Dialect::kSbdh:
      return true;  // the native Emessage travels inside the SBDH unchanged
    case Dialect::kOioxml:
      // MedCom has classic standards for correspondence and receipts only (domain.md §1).
      return type == LetterType::kCorrespondence || is_receipt(type);
    case Dialect::kFhir:
      // MedCom FHIR messaging: CareCommunication, HospitalNotification, Acknowledgement.
      return type == LetterType::kCorrespondence || type == LetterType::kDischargeNotice ||
             type == LetterType::kHospitalStayNotice || is_receipt(type);
    default:
      break;
  }
  return false;
}

Result<std::string> encode_outbound(const Envelope& envelope, Dialect dialect, TimePoint now,
                                    const std::string& instance_id) {
  switch (dialect) {
    case Dialect::kNative:
      return encode_envelope(envelope);
    case Dialect::kOioxml:
      for (const auto& letter : envelope.letters) {
        if (!expressible(letter.type(), dialect)) {
          return make_error(Errc::kUnsupportedType, "OIOXML has no MedCom standard for " +
                                                        std::string(to_string(letter.type())));
        }
      }
      return adapters::native_to_oioxml(envelope, adapters::OioxmlWriteOptions{});
    case Dialect::kSbdh: {
      adapters::SbdhWrapOptions options;
      options.instance_id = instance_id;
      options.created = now;
      auto document = adapters::wrap_native_envelope(envelope, options);
      if (!document) return document.error();
      return adapters::write_sbdh(*document);
    }
    case Dialect::kFhir:
      // A receipt's response.identifier is then the UUID the broker gave the original
      // (uuid_for_native_id): right for originals the broker wrote in FHIR itself. For an
      // original that arrived as FHIR the dispatcher looks up its MessageHeader.id and calls
      // encode_for_receiver with it.
      return encode_outbound_fhir(envelope, now);
    default:
      break;
  }
  return make_error(Errc::kUnsupportedType, "unknown dialect");
}

Result<std::string> encode_outbound_sbdh(const Envelope& envelope, SbdhPayload payload,
                                         TimePoint now, const std::string& instance_id,
                                         std::string_view original_fhir_message_id,
                                         std::string* fhir_header_id) {
  adapters::SbdhWrapOptions options;
  options.instance_id = instance_id;
  options.created = now;
  auto document = adapters::wrap_native_envelope(envelope, options);
  if (!document) return document.error();
  if (payload == SbdhPayload::kNative) return adapters::write_sbdh(*document);
  if (payload == SbdhPayload::kOioxml) {
    auto message = adapters::native_to_oioxml_message(envelope);
    if (!message) return message.error();
    const adapters::OioxmlLetter& first = message->letters.front();
    const std::string code =
        !first.statistical_code.empty() ? first.statistical_code : std::string(first.element);
    document->standard = code;
    document->type = "Emessage";
    document->type_version = first.version_code;
    document->document_id = "urn:dk:healthcare:medcom:messaging:oioxml:schema:xsd::Emessage##" +
                            std::string("urn:dk:medcom:oioxml:") + code + "::" + first.version_code;
    document->statistical_information = "MCM:" + code;
    document->mime_type = "application/xml";
    document->content_encoding = "ISO-8859-1";
    document->payload = adapters::write_oioxml(*message);
    return adapters::write_sbdh(*document);
  }
  auto bytes = encode_outbound_fhir(envelope, now, original_fhir_message_id);
  if (!bytes) return bytes.error();
  std::string event;
  std::string bundle_id;
  std::string header_id;
  if (auto message = adapters::parse_fhir_message(*bytes)) {
    event = message->event;
    bundle_id = message->bundle_id;
    header_id = message->header_id;
    if (fhir_header_id != nullptr) *fhir_header_id = header_id;
  } else if (auto ack = adapters::parse_fhir_acknowledgement(*bytes)) {
    event = std::string(adapters::kEventAcknowledgement);
    bundle_id = ack->bundle_id;
    header_id = ack->header_id;
  } else {
    return make_error(Errc::kInvalid, "the FHIR payload the broker wrote does not read back");
  }
  document->standard = event;
  document->type = "Bundle";
  document->type_version = "4.0.1";
  document->document_id = "urn:dk:healthcare:medcom:messaging:fhir:structuredefinition::" + event +
                          "##urn:dk:medcom:fhir:" + event + "::4.0.1";
  document->message_id = header_id;
  document->message_envelope_id = bundle_id;
  document->statistical_information = "MCM:" + event;
  document->mime_type = "application/fhir+xml";
  document->payload = std::move(*bytes);
  return adapters::write_sbdh(*document);
}

Result<std::string> encode_outbound_fhir(const Envelope& envelope, TimePoint now,
                                         std::string_view original_fhir_message_id,
                                         std::string* fhir_header_id) {
  if (envelope.letters.empty()) return make_error(Errc::kInvalid, "an envelope without letters");
  const Letter& first = envelope.letters.front();
  if (const auto* stay = std::get_if<HospitalStayNotice>(&first.body);
      stay != nullptr && !stay->fhir_message.empty() && envelope.letters.size() == 1) {
    auto whole = adapters::fhir_json_to_xml(stay->fhir_message);  // the hospital's message
    if (whole && fhir_header_id != nullptr) {
      auto message = adapters::parse_fhir_message(*whole);
      if (!message) return message.error();
      *fhir_header_id = message->header_id;
    }
    return whole;
  }
  if (is_receipt(first.type())) {
    if (envelope.letters.size() != 1)
      return make_error(Errc::kUnsupportedType, "a FHIR Acknowledgement answers one message");
    const ReceiptReference& ref = first.type() == LetterType::kPositiveReceipt
                                      ? std::get<PositiveReceipt>(first.body).original
                                      : std::get<NegativeReceipt>(first.body).original;
    if (ref.original_letter_ids.size() != 1)
      return make_error(Errc::kUnsupportedType, "a FHIR Acknowledgement answers one message");
    adapters::FhirAckIds ids;
    ids.bundle_id = adapters::uuid_for_native_id(envelope.id);
    ids.header_id = adapters::uuid_for_native_id(first.id);
    ids.timestamp = now;
    ids.response_identifier = original_fhir_message_id.empty()
                                  ? adapters::uuid_for_native_id(ref.original_letter_ids.front())
                                  : std::string(original_fhir_message_id);
    ids.source_endpoint = "https://sor2.sum.dsdn.dk/#id=" + first.sender.sor;
    ids.destination_endpoint = "https://sor2.sum.dsdn.dk/#id=" + first.receiver.sor;
    auto ack = adapters::ack_from_native(first, ids);
    if (!ack) return ack.error();
    return adapters::write_fhir_acknowledgement(*ack);
  }
  auto message = adapters::native_to_fhir(envelope);
  if (!message) return message.error();
  if (fhir_header_id != nullptr) *fhir_header_id = message->header_id;
  return adapters::write_fhir_message(*message);
}

Result<std::string> encode_for_receiver(const Envelope& envelope, const Endpoint& receiver,
                                        TimePoint now, const std::string& instance_id,
                                        std::string_view original_fhir_message_id,
                                        std::string* fhir_header_id) {
  if (receiver.dialect == Dialect::kFhir) {
    auto xml = encode_outbound_fhir(envelope, now, original_fhir_message_id, fhir_header_id);
    if (!xml || !receiver.fhir_json) return xml;
    return adapters::fhir_xml_to_json(*xml);  // "fhir_format": "json"
  }
  if (receiver.dialect == Dialect::kSbdh && receiver.sbdh_payload != SbdhPayload::kNative)
    return encode_outbound_sbdh(
        envelope, receiver.sbdh_payload, now, instance_id, original_fhir_message_id,
        receiver.sbdh_payload == SbdhPayload::kFhir ? fhir_header_id : nullptr);
  return encode_outbound(envelope, receiver.dialect, now, instance_id);
}

std::string sent_fhir_message_key(std::string_view receiver_gln, std::string_view header_id) {
  return "fhir:" + std::string(receiver_gln) + ":" + std::string(header_id);
}

std::string_view delivery_content_type(const Endpoint& receiver) {
  switch (receiver.dialect) {
    case Dialect::kNative:
      return "application/xml; charset=utf-8";
    case Dialect::kFhir:
      return receiver.fhir_json ? "application/fhir+json" : "application/fhir+xml";
    default:
      return "application/xml";
  }
}

std::string_view answer_content_type(std::string_view body) {
  if (adapters::looks_like_json(body)) return "application/fhir+json; charset=utf-8";
  if (sniff_fhir(body) || root_start_tag(body).starts_with("<OperationOutcome"))
    return "application/fhir+xml; charset=utf-8";
  return "application/xml; charset=utf-8";
}

std::string_view receipt_exception_type_for(Errc fault) {
  switch (fault) {
    case Errc::kMalformed:
    case Errc::kInvalid:
    case Errc::kTooLarge:
      return adapters::kReceiptExceptionSyntax;
    case Errc::kUnknownSender:
    case Errc::kUnknownReceiver:
    case Errc::kReceiverMismatch:
      return adapters::kReceiptExceptionAuthorization;
    case Errc::kUnsupportedType:
    case Errc::kUnknownReference:
    case Errc::kDuplicateConflict:
    case Errc::kConflict:
      return adapters::kReceiptExceptionSequence;
    case Errc::kStorage:
    case Errc::kStale:
    case Errc::kTransport:
      return {};
    default:
      return adapters::kReceiptExceptionSyntax;
  }
}

std::string accepted_answer(const Inbound& inbound, const std::string& native_acceptance,
                            TimePoint now, const std::string& instance_id, const Party& broker) {
  if (inbound.fhir && inbound.fhir_ack) return {};
  if (inbound.fhir && inbound.fhir_message) {
    const adapters::FhirMessage& m = *inbound.fhir_message;
    auto acceptance = decode_acceptance(native_acceptance);
    Letter ok;
    ok.sender = broker;
    ok.receiver.gln = m.sender.gln;
    ok.receiver.sor = m.sender.sor;
    ok.body = PositiveReceipt{};
    adapters::FhirAckIds ids;
    ids.bundle_id = adapters::uuid_for_native_id(instance_id);
    ids.header_id = ids.bundle_id;
    ids.timestamp = acceptance ? acceptance->accepted_at : now;
    ids.response_identifier = m.header_id;
    ids.source_endpoint = "https://sor2.sum.dsdn.dk/#id=" + broker.sor;
    ids.destination_endpoint = m.source_endpoint.empty()
                                   ? "https://sor2.sum.dsdn.dk/#id=" + m.sender.sor
                                   : m.source_endpoint;
    if (auto ack = adapters::ack_from_native(ok, ids)) {
      std::string xml = adapters::write_fhir_acknowledgement(*ack);
      if (!inbound.fhir_json) return xml;
      if (auto json = adapters::fhir_xml_to_json(xml)) return *json;
      return xml;
    }
  }
  if (inbound.dialect == Dialect::kSbdh && inbound.sbdh) {
    auto ack = adapters::make_receipt_acknowledgement(*inbound.sbdh, {instance_id, now});
    if (ack) return adapters::write_sbdh(*ack);
  }
  return native_acceptance;
}

namespace {

// FHIR's answer to a request it cannot process: an OperationOutcome with one issue (severity
// error, code structure) and `diagnostics` (a text without message content).
std::string fhir_operation_outcome(std::string_view diagnostics) {
  XmlBuilder w(R"(<?xml version="1.0" encoding="UTF-8"?>)", true);
  w.open("OperationOutcome", {{"xmlns", "http://hl7.org/fhir"}});
  w.open("issue");
  w.empty("severity", {{"value", "error"}});
  w.empty("code", {{"value", "structure"}});
  w.empty("diagnostics", {{"value", diagnostics}});
  w.close();
  w.close();
  return w.finish();
}

}  // namespace

// Beyond the header's contract: an SBDH envelope that did not parse (read_leniently) still gets
// its ReceiptException (Syntax for a malformed one), addressed from the header as far as the
// bytes tell (else to the native refusal's receiver); a FHIR message that did not parse gets its
// Acknowledgement naming the MessageHeader.id read from the bytes — and, when none can be read,
// a FHIR OperationOutcome, since MedCom's Acknowledgement requires response.identifier (1..1).
std::string refused_answer(Dialect dialect, const Inbound* inbound, const Envelope& native_refusal,
                           TimePoint now, const std::string& instance_id, Errc fault) {
  if (inbound && inbound->fhir && !native_refusal.letters.empty() &&
      inbound->original.fhir_header_id.empty()) {
    // MedCom's Acknowledgement must name the message it answers (MessageHeader.response.
    // identifier, 1..1 in the profile as in FHIR R4). When not even a damaged message's
    // MessageHeader.id can be read, no valid Acknowledgement exists: the sender gets FHIR's own
    // answer to a request it cannot process, an OperationOutcome (error, structure) saying why.
    const auto& refusal = std::get<NegativeReceipt>(native_refusal.letters.front().body);
    std::string xml = fhir_operation_outcome(
        refusal.text +
        "; no MessageHeader.id could be read, so no Acknowledgement can name the "
        "message");
    if (!inbound->fhir_json) return xml;
    if (auto json = adapters::fhir_xml_to_json(xml)) return *json;
    return xml;
  }
  if (inbound && inbound->fhir && !native_refusal.letters.empty()) {
    // A FHIR sender gets an Acknowledgement with fatal-error for the message it sent.
    const Letter& refusal = native_refusal.letters.front();
    adapters::FhirAckIds ids;
    ids.bundle_id = adapters::uuid_for_native_id(native_refusal.id);
    ids.header_id = adapters::uuid_for_native_id(refusal.id);
    ids.timestamp = now;
    ids.response_identifier = inbound->original.fhir_header_id;
    ids.source_endpoint = "https://sor2.sum.dsdn.dk/#id=" + refusal.sender.sor;
    ids.destination_endpoint = "https://sor2.sum.dsdn.dk/#id=" + refusal.receiver.sor;
    if (auto ack = adapters::ack_from_native(refusal, ids)) {
      std::string xml = adapters::write_fhir_acknowledgement(*ack);
      if (!inbound->fhir_json) return xml;
      if (auto json = adapters::fhir_xml_to_json(xml)) return *json;
      return xml;
    }
  }
  if (dialect == Dialect::kSbdh && inbound && inbound->sbdh) {
    const auto& refusal = std::get<NegativeReceipt>(native_refusal.letters.front().body);
    if (inbound->signal) {
      // An envelope receipt the broker cannot take (one for an envelope it never sent).
      auto answer = adapters::make_signal_refusal(*inbound->sbdh, refusal.text, {instance_id, now});
      if (answer) return adapters::write_sbdh(*answer);
    } else {
      const std::string_view type = receipt_exception_type_for(fault);
      if (type.empty()) return {};  // the broker's own trouble: send again (HTTP 503)
      // An envelope read only leniently (it did not parse) may lack its parties: the answer
      // then goes where the native refusal goes (the sender as far as the bytes tell, else the
      // broker itself), from the broker.
      adapters::SbdhDocument original = *inbound->sbdh;
      const Letter& native = native_refusal.letters.front();
      std::string reason = refusal.text;
      if (original.sender_gln.empty()) original.sender_gln = native.receiver.gln;
      if (original.receiver_gln.empty()) original.receiver_gln = native.sender.gln;
      if (original.instance_id.empty()) {
        // ebBP requires OriginalMessageIdentifier: "ukendt", as a native refusal names it.
        original.instance_id = "ukendt";
        reason += "; the envelope's InstanceIdentifier could not be read";
      }
      if (original.created == TimePoint{}) original.created = now;
      auto exception = adapters::make_receipt_exception(original, type, reason, {instance_id, now});
      if (exception) return adapters::write_sbdh(*exception);
    }
  }
  if (dialect == Dialect::kOioxml) {
    auto xctl01 = adapters::native_to_oioxml(native_refusal, adapters::OioxmlWriteOptions{});
    if (xctl01) return *xctl01;
  }
  return encode_envelope(native_refusal);
}

}  // namespace sektorbro
