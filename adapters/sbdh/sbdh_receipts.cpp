#include "adapters/sbdh/sbdh_receipts.hpp"

#include <utility>

#include "broker/xml/text_encoding.hpp"
#include "broker/xml/xml_builder.hpp"
#include "broker/xml/xml_document.hpp"

namespace sektorbro::adapters {
namespace {

constexpr std::string_view kPrefix = "0088:";

Error invalid(std::string detail) { return make_error(Errc::kInvalid, std::move(detail)); }

std::string signal_xml(const SbdhDocument& original, const SbdhReceiptIds& ids, bool exception,
                       std::string_view exception_type, std::string_view reason) {
  XmlBuilder w("", true);
  const std::string from = std::string(kPrefix) + original.receiver_gln;
  const std::string to = std::string(kPrefix) + original.sender_gln;
  const std::string when = format_timestamp(ids.created);
  // In the order of ebBP's SignalIdentificationInformation (ebbp-signals-2.0.4.xsd, as
  // medcomdk/dk-ehmi-sbdh keeps it in input/pagecontent/ebbp/), then for an Exception its
  // ExceptionType, Reason (required) and ExceptionMessage.
  const std::string& original_id =
      !original.message_id.empty() ? original.message_id : original.instance_id;
  w.open(exception ? "bpssignal:Exception" : "bpssignal:ReceiptAcknowledgement",
         {{"xmlns:bpssignal", kEbbpSignalsNamespace}});
  w.leaf("bpssignal:OriginalMessageIdentifier", original_id);
  if (!original.document_id.empty())
    w.leaf("bpssignal:OriginalDocumentIdentifier", original.document_id);
  w.leaf("bpssignal:OriginalMessageDateTime", format_timestamp(original.created));
  w.leaf("bpssignal:ThisMessageDateTime", when);
  w.leaf("bpssignal:FromPartyInfo", from, {{"type", kPartyAuthority}});
  w.leaf("bpssignal:ToPartyInfo", to, {{"type", kPartyAuthority}});
  w.leaf("bpssignal:CollaborationIdentifier", original_id);
  if (exception) {
    w.open("bpssignal:ExceptionType");
    w.leaf("bpssignal:ReceiptException", exception_type);
    w.close();
    w.leaf("bpssignal:Reason", receipt_exception_reason(exception_type));
    if (!reason.empty()) w.leaf("bpssignal:ExceptionMessage", reason);
  }
  w.close();
  return w.finish();
}

Result<SbdhDocument> make(const SbdhDocument& original, const SbdhReceiptIds& ids, bool exception,
                          std::string_view exception_type, std::string_view reason,
                          bool answering_a_receipt = false) {
  if (is_envelope_receipt(original) && !answering_a_receipt)
    return invalid("original: an envelope receipt is never answered");
  if (ids.instance_id.empty()) return invalid("receipt instance id: empty");
  if (exception && !is_receipt_exception_type(exception_type))
    return invalid("exception type: expected an ebBP ReceiptException (Syntax, Authorization, "
                   "Signature, Sequence)");
  SbdhDocument r;
  r.sender_gln = original.receiver_gln;
  r.receiver_gln = original.sender_gln;
  r.standard = std::string(kSbdhAckStandard);
  r.type_version = "ebbp-signals-2.0";
  r.instance_id = ids.instance_id;
  r.type = std::string(exception ? kSbdhReceiptException : kSbdhReceiptAcknowledgement);
  r.created = ids.created;
  r.document_id = std::string(kSbdhAckDocumentId);
  r.process_id = original.process_id;
  r.sender_sor = original.receiver_sor;
  r.receiver_sor = original.sender_sor;
  r.message_id = ids.instance_id;
  r.message_envelope_id = ids.instance_id;
  r.original_message_id = original.message_id;
  r.original_message_envelope_id = original.message_envelope_id;
  r.original_message_standard = original.standard;
  r.original_message_version = original.type_version;
  r.original_envelope_id = original.instance_id;
  // EHMI's ReceiptException example names the signal here; its ReceiptAcknowledgement keeps
  // the original's.
  r.statistical_information =
      exception ? std::string(kSbdhReceiptException) : original.statistical_information;
  r.receipt.kind = SbdhAckScope::kResponse;
  r.receipt.requesting_document_created = original.created;
  r.receipt.requesting_document_id = original.instance_id;
  r.receipt.time_to_acknowledge = original.receipt.time_to_acknowledge;
  r.receipt.expected_response = original.created + original.receipt.time_to_acknowledge;
  r.mime_type = "application/xml";
  r.payload = signal_xml(original, ids, exception, exception_type, reason);
  return r;
}

std::string strip_party(std::string_view v) {
  v = trim_space(v);
  if (v.starts_with(kPrefix)) v.remove_prefix(kPrefix.size());
  return std::string(v);
}

}  // namespace

bool is_receipt_exception_type(std::string_view type) {
  return type == kReceiptExceptionSyntax || type == kReceiptExceptionAuthorization ||
         type == kReceiptExceptionSignature || type == kReceiptExceptionSequence;
}

std::string_view receipt_exception_reason(std::string_view type) {
  if (type == kReceiptExceptionSyntax)
    return "Syntax: the envelope or its payload is not well-formed or breaks the schema";
  if (type == kReceiptExceptionAuthorization)
    return "Authorization: a party is not one this message handler serves";
  if (type == kReceiptExceptionSignature) return "Signature: the signature could not be verified";
  if (type == kReceiptExceptionSequence)
    return "Sequence: the document's type or its place in the exchange is not accepted";
  return "Receipt exception";
}

Result<SbdhDocument> make_signal_refusal(const SbdhDocument& signal, std::string_view reason,
                                         const SbdhReceiptIds& ids) {
  if (!is_envelope_receipt(signal)) return invalid("original: not an envelope receipt");
  return make(signal, ids, true, kReceiptExceptionSequence, reason, true);
}

bool is_envelope_receipt(const SbdhDocument& d) {
  return d.type == kSbdhReceiptAcknowledgement || d.type == kSbdhReceiptException;
}

Result<SbdhDocument> make_receipt_acknowledgement(const SbdhDocument& original,
                                                  const SbdhReceiptIds& ids) {
  return make(original, ids, false, {}, {});
}

Result<SbdhDocument> make_receipt_exception(const SbdhDocument& original,
                                            std::string_view exception_type,
                                            std::string_view reason, const SbdhReceiptIds& ids) {
  return make(original, ids, true, exception_type, reason);
}

Result<SbdhSignal> read_signal(const SbdhDocument& receipt) {
  if (!is_envelope_receipt(receipt)) return invalid("document is not an envelope receipt");
  const bool exception = receipt.type == kSbdhReceiptException;
  auto decoded = decode_document(receipt.payload);
  if (!decoded) return decoded.error();
  auto tree = parse_xml_document(decoded->utf8);
  if (!tree) return tree.error();
  const XmlNode& root = *tree;
  const std::string_view want = exception ? "Exception" : "ReceiptAcknowledgement";
  // ebBP's schema names the exception signal Exception; EHMI's embedded example
  // (TestExample_ehmiSBDH_Embedded_SBDHAckException) names it ReceiptException: both are read.
  const bool named = root.name == want || (exception && root.name == "ReceiptException");
  if (root.ns != kEbbpSignalsNamespace || !named)
    return invalid("BinaryContent: expected an ebBP " + std::string(want) + " signal");
  const std::string path = "BinaryContent/" + std::string(want);
  const auto text = [&](std::string_view name) {
    const XmlNode* c = root.child(kEbbpSignalsNamespace, name);
    return c == nullptr ? std::string{} : std::string(trim_space(c->text));
  };
  SbdhSignal s;
  s.exception = exception;
  s.original_message_id = text("OriginalMessageIdentifier");
  if (s.original_message_id.empty()) return invalid(path + "/OriginalMessageIdentifier: missing");
  s.original_document_id = text("OriginalDocumentIdentifier");
  const std::string when = text("ThisMessageDateTime");
  if (auto t = parse_timestamp(when))
    s.this_message_time = *t;
  else
    return invalid(path + "/ThisMessageDateTime: expected xs:dateTime with a zone");
  s.from_gln = strip_party(text("FromPartyInfo"));
  s.to_gln = strip_party(text("ToPartyInfo"));
  s.collaboration_id = text("CollaborationIdentifier");
  if (exception) {
    const std::string message = text("ExceptionMessage");
    s.reason = redact_cpr_like(message.empty() ? text("Reason") : message);
    const XmlNode* type = root.child(kEbbpSignalsNamespace, "ExceptionType");
    const XmlNode* re =
        type == nullptr ? nullptr : type->child(kEbbpSignalsNamespace, "ReceiptException");
    const XmlNode* general =
        type == nullptr ? nullptr : type->child(kEbbpSignalsNamespace, "GeneralException");
    if (re != nullptr && !trim_space(re->text).empty()) {
      s.exception_type = std::string(trim_space(re->text));  // ebBP: Syntax, Authorization, …
    } else if (re != nullptr && !re->children.empty()) {
      s.exception_type = re->children.front().name;  // EHMI's <GeneralException>101</…> form
    } else if (general != nullptr) {
      s.exception_type = "GeneralException";
    } else {
      return invalid(path + "/ExceptionType/ReceiptException: missing");
    }
    if (!quotable_name(s.exception_type)) s.exception_type = "other";
  }
  return s;
}

}  // namespace sektorbro::adapters
