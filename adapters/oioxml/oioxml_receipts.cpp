#include "adapters/oioxml/oioxml_receipts.hpp"

#include <algorithm>
#include <utility>

#include "broker/xml/xml_document.hpp"
#include "broker/core/identifiers.hpp"

namespace sektorbro::adapters {
namespace {

Error invalid(std::string detail) { return make_error(Errc::kInvalid, std::move(detail)); }

bool valid_id(std::string_view id) { return !id.empty() && id.size() <= 14; }

OioxmlParty ean_only(const OioxmlParty& p) {
  OioxmlParty out;
  out.ean = p.ean;
  return out;
}

Result<OioxmlEmessage> build(const OioxmlEmessage& original, OioxmlLetterKind kind,
                             const OioxmlRefusal* refusal, const OioxmlReceiptIds& ids) {
  if (!valid_id(ids.envelope_id)) return invalid("receipt envelope id: expected 1-14 characters");
  if (!valid_id(ids.letter_id)) return invalid("receipt letter id: expected 1-14 characters");
  if (original.letters.empty()) return invalid("original: no letter");
  for (const auto& l : original.letters)
    if (is_receipt(l.kind)) return invalid("original: a receipt is never receipted");
  if (refusal != nullptr) {
    for (const auto& id : refusal->letter_ids) {
      const bool known = std::any_of(original.letters.begin(), original.letters.end(),
                                     [&](const OioxmlLetter& l) { return l.id == id; });
      if (!known) return invalid("refusal: names a letter the original does not hold");
    }
  }
  const OioxmlLetter& first = original.letters.front();

  OioxmlEmessage out;
  out.namespace_uri = std::string(kOioxmlReceiptNamespace);
  out.sent = ids.sent;
  out.envelope_id = ids.envelope_id;
  out.positive_receipt_requested = false;

  OioxmlLetter r;
  r.kind = kind;
  r.element = std::string(element_name(kind));
  r.id = ids.letter_id;
  switch (kind) {
    case OioxmlLetterKind::kPositiveReceipt:
      r.version_code = std::string(kXctl03VersionCode);
      r.statistical_code = "XCTL03";
      break;
    case OioxmlLetterKind::kNegativeReceipt:
      r.version_code = std::string(kXctl02VersionCode);
      r.statistical_code = "XCTL02";
      break;
    default:
      r.version_code = std::string(kXctl01VersionCode);
      r.statistical_code = "XCTL01";
      break;
  }
  r.sender = ean_only(first.receiver);
  if (!ids.sender_ean.empty()) r.sender.ean = ids.sender_ean;
  r.receiver = ean_only(first.sender);

  OioxmlOriginal o;
  o.envelope_id = original.envelope_id;
  o.sender = ean_only(first.sender);
  o.receiver = ean_only(first.receiver);
  const std::string code =
      refusal == nullptr ? std::string{} : std::string(to_string(refusal->code));
  if (refusal != nullptr && refusal->whole_envelope) {
    o.refuse_code = code;
    o.refuse_text = refusal->text;
  } else {
    for (const auto& l : original.letters) {
      OioxmlOriginalLetter ol;
      ol.letter_id = l.id;
      ol.version_code = l.version_code;
      if (refusal != nullptr) {
        const bool refused = refusal->letter_ids.empty() ||
                             std::find(refusal->letter_ids.begin(), refusal->letter_ids.end(),
                                       l.id) != refusal->letter_ids.end();
        if (!refused) continue;
        ol.refuse_code = code;
        ol.refuse_text = refusal->text;
      }
      o.letters.push_back(std::move(ol));
    }
  }
  r.original = std::move(o);
  out.letters.push_back(std::move(r));
  return out;
}

Result<std::string> written(Result<OioxmlEmessage> m, const OioxmlWriteOptions& options) {
  if (!m) return m.error();
  return write_oioxml(*m, options);
}

Party native_party(const OioxmlParty& p) {
  Party out;
  out.gln = p.ean;
  return out;
}

}  // namespace

Result<OioxmlEmessage> build_positive_receipt(const OioxmlEmessage& original,
                                              const OioxmlReceiptIds& ids) {
  return build(original, OioxmlLetterKind::kPositiveReceipt, nullptr, ids);
}

Result<OioxmlEmessage> build_negative_receipt(const OioxmlEmessage& original,
                                              const OioxmlRefusal& refusal,
                                              const OioxmlReceiptIds& ids) {
  return build(original, OioxmlLetterKind::kNegativeReceipt, &refusal, ids);
}

Result<OioxmlEmessage> build_network_receipt(const OioxmlEmessage& original,
                                             const OioxmlRefusal& refusal,
                                             const OioxmlReceiptIds& ids) {
  return build(original, OioxmlLetterKind::kNegativeVansReceipt, &refusal, ids);
}

Result<std::string> write_positive_receipt(const OioxmlEmessage& original,
                                           const OioxmlReceiptIds& ids,
                                           const OioxmlWriteOptions& options) {
  return written(build_positive_receipt(original, ids), options);
}

Result<std::string> write_negative_receipt(const OioxmlEmessage& original,
                                           const OioxmlRefusal& refusal,
                                           const OioxmlReceiptIds& ids,
                                           const OioxmlWriteOptions& options) {
  return written(build_negative_receipt(original, refusal, ids), options);
}

Result<std::string> write_network_receipt(const OioxmlEmessage& original,
                                          const OioxmlRefusal& refusal, const OioxmlReceiptIds& ids,
                                          const OioxmlWriteOptions& options) {
  return written(build_network_receipt(original, refusal, ids), options);
}

Result<OioxmlEmessage> receipt_from_native(const OioxmlEmessage& original, const Letter& receipt,
                                           const OioxmlReceiptIds& ids) {
  if (const auto* pos = std::get_if<PositiveReceipt>(&receipt.body)) {
    if (pos->original.original_envelope_id != original.envelope_id)
      return invalid("receipt: points at another envelope");
    return build_positive_receipt(original, ids);
  }
  const auto* neg = std::get_if<NegativeReceipt>(&receipt.body);
  if (neg == nullptr) return invalid("receipt: not a receipt letter");
  if (neg->original.original_envelope_id != original.envelope_id)
    return invalid("receipt: points at another envelope");
  OioxmlRefusal refusal;
  refusal.code = neg->code;
  refusal.text = neg->text;
  refusal.letter_ids = neg->original.original_letter_ids;
  return neg->level == ReceiptLevel::kNetwork ? build_network_receipt(original, refusal, ids)
                                              : build_negative_receipt(original, refusal, ids);
}

Result<std::vector<Letter>> receipts_to_native(const OioxmlEmessage& message) {
  std::vector<Letter> out;
  std::size_t n = 0;
  for (const auto& l : message.letters) {
    ++n;
    const std::string path = "Emessage/letter[" + std::to_string(n) + "]";
    if (!is_receipt(l.kind) || !l.original)
      return make_error(Errc::kUnsupportedType,
                        path + ": not a receipt; the native model has no type for it");
    const OioxmlOriginal& o = *l.original;
    Letter native;
    native.id = l.id;
    native.status = LetterStatus::kNew;
    native.authorised = message.sent;
    native.sender = native_party(l.sender);
    native.receiver = native_party(l.receiver);
    ReceiptReference ref;
    ref.original_envelope_id = o.envelope_id;
    for (const auto& ol : o.letters) ref.original_letter_ids.push_back(ol.letter_id);
    if (l.kind == OioxmlLetterKind::kPositiveReceipt) {
      if (ref.original_letter_ids.empty())
        return invalid(path + "/OriginalEmessage: a positive receipt names no OriginalLetter");
      native.body = PositiveReceipt{std::move(ref)};
      out.push_back(std::move(native));
      continue;
    }
    NegativeReceipt neg;
    neg.level = l.kind == OioxmlLetterKind::kNegativeVansReceipt ? ReceiptLevel::kNetwork
                                                                 : ReceiptLevel::kApplication;
    // The refusals: the envelope's, then each letter's own.
    std::vector<std::pair<std::string, std::string>> refusals;  // code, text
    if (!o.refuse_code.empty() || !o.refuse_text.empty())
      refusals.emplace_back(o.refuse_code, o.refuse_text);
    for (const auto& ol : o.letters)
      if (!ol.refuse_code.empty() || !ol.refuse_text.empty())
        refusals.emplace_back(ol.refuse_code, ol.refuse_text);
    const bool same_code = std::all_of(refusals.begin(), refusals.end(), [&](const auto& r) {
      return r.first == refusals.front().first;
    });
    if (refusals.empty()) {
      neg.code = RefuseCode::kUnspecified;
    } else if (same_code) {
      neg.code = parse_refuse_code(refusals.front().first).value_or(RefuseCode::kUnspecified);
      std::string text;
      for (const auto& r : refusals) {
        if (r.second.empty() || text.find(r.second) != std::string::npos) continue;
        if (!text.empty()) text.push_back('\n');
        text.append(r.second);
      }
      neg.text = redact_cpr_like(text);
    } else {
      // Different codes per letter cannot be one native code: say each in the text.
      neg.code = RefuseCode::kUnspecified;
      std::string text;
      for (const auto& ol : o.letters) {
        if (ol.refuse_code.empty() && ol.refuse_text.empty()) continue;
        if (!text.empty()) text.push_back('\n');
        text.append(ol.letter_id + ": " + ol.refuse_code + ": " + ol.refuse_text);
      }
      if (!o.refuse_code.empty() || !o.refuse_text.empty())
        text =
            "envelope: " + o.refuse_code + ": " + o.refuse_text + (text.empty() ? "" : "\n") + text;
      neg.text = redact_cpr_like(text);
    }
    neg.original = std::move(ref);
    native.body = std::move(neg);
    out.push_back(std::move(native));
  }
  return out;
}

}  // namespace sektorbro::adapters
