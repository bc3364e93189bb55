#include "adapters/fhir/fhir_receipts.hpp"

#include <array>

namespace sektorbro::adapters {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

constexpr std::array<std::string_view, 9> kSyntaxCodes{"MSG_BAD_SYNTAX",
                                                       "MSG_BAD_FORMAT",
                                                       "MSG_DATE_FORMAT",
                                                       "MSG_WRONG_NS",
                                                       "MSG_Datatype_Wrong",
                                                       "MSG_Element_To_Long",
                                                       "MSG_VALUESET_VALUE_UNKNOWN",
                                                       "MSG_CodeSystem_VALUE_UNKNOWN",
                                                       "MSG_Damaged_durin_transport"};

FhirOrganization org(const Party& p) { return {p.gln, p.sor}; }

Party party(const FhirOrganization& o) {
  Party p;
  p.gln = o.gln;
  p.sor = o.sor;
  return p;
}

}  // namespace

RefuseCode refuse_code_for_issue(std::string_view c) {
  if (iequals(c, "MSG_Receiver_Identifier_UNKNOWN")) return RefuseCode::kUnknownLocation;
  if (iequals(c, "MSG_Receiver_Identifier_MISSING")) return RefuseCode::kReceiverIdProblem;
  if (iequals(c, "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE")) return RefuseCode::kVersionProblem;
  for (auto s : kSyntaxCodes)
    if (iequals(c, s)) return RefuseCode::kSyntaxError;
  return RefuseCode::kUnspecified;
}

std::string_view issue_code_for_refusal(RefuseCode code) {
  switch (code) {
    case RefuseCode::kUnknownLocation:
      return "MSG_Receiver_Identifier_UNKNOWN";
    case RefuseCode::kReceiverIdProblem:
      return "MSG_Receiver_Identifier_MISSING";
    case RefuseCode::kVersionProblem:
      return "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE";
    case RefuseCode::kSyntaxError:
      return "MSG_BAD_SYNTAX";
    case RefuseCode::kUnspecified:
      return "";
  }
  return "";
}

std::string_view issue_type_for_refusal(RefuseCode code) {
  switch (code) {
    case RefuseCode::kUnknownLocation:
      return "not-found";
    case RefuseCode::kReceiverIdProblem:
      return "invalid";
    case RefuseCode::kVersionProblem:
      return "not-supported";
    case RefuseCode::kSyntaxError:
      return "structure";
    case RefuseCode::kUnspecified:
      return "processing";
  }
  return "processing";
}

Result<NativeAck> ack_to_native(const FhirAcknowledgement& ack, const ReceiptReference& original,
                                std::string_view letter_id) {
  std::string diagnostics;
  std::string codes;
  for (const auto& i : ack.issues) {
    if (!i.diagnostics.empty()) diagnostics += (diagnostics.empty() ? "" : "\n") + i.diagnostics;
    if (!i.detail_code.empty()) codes += (codes.empty() ? "" : "\n") + i.detail_code;
  }
  NativeAck out;
  if (ack.code == FhirAckCode::kTransientError) {
    out.outcome = AckOutcome::kTransient;
    out.transient_reason =
        codes.empty() ? diagnostics : (diagnostics.empty() ? codes : codes + "\n" + diagnostics);
    return out;
  }
  if (letter_id.empty()) return make_error(Errc::kInvalid, "receipt letter id: empty");
  Letter l;
  l.id = std::string(letter_id);
  l.status = LetterStatus::kNew;
  l.authorised = ack.timestamp;
  l.sender = party(ack.sender);
  l.receiver = party(ack.receiver);
  if (ack.code == FhirAckCode::kOk) {
    out.outcome = AckOutcome::kPositive;
    l.body = PositiveReceipt{original};
  } else {
    out.outcome = AckOutcome::kNegative;
    NegativeReceipt neg;
    neg.original = original;
    neg.level = ReceiptLevel::kApplication;
    neg.code = RefuseCode::kUnspecified;
    for (const auto& i : ack.issues) {
      if (i.detail_code.empty()) continue;
      neg.code = refuse_code_for_issue(i.detail_code);
      break;
    }
    neg.text = diagnostics.empty() ? codes : diagnostics;
    l.body = std::move(neg);
  }
  out.receipt = std::move(l);
  return out;
}

Result<FhirAcknowledgement> ack_from_native(const Letter& receipt, const FhirAckIds& ids) {
  FhirAcknowledgement a;
  a.bundle_id = ids.bundle_id;
  a.header_id = ids.header_id;
  a.timestamp = ids.timestamp;
  a.response_identifier = ids.response_identifier;
  a.source_endpoint = ids.source_endpoint;
  a.destination_endpoint = ids.destination_endpoint;
  a.sender = org(receipt.sender);
  a.receiver = org(receipt.receiver);
  if (std::holds_alternative<PositiveReceipt>(receipt.body)) {
    a.code = FhirAckCode::kOk;
    return a;
  }
  const auto* neg = std::get_if<NegativeReceipt>(&receipt.body);
  if (neg == nullptr) return make_error(Errc::kInvalid, "receipt: not a receipt letter");
  a.code = FhirAckCode::kFatalError;
  FhirAckIssue issue;
  issue.severity = "error";
  issue.code = std::string(issue_type_for_refusal(neg->code));
  issue.detail_code = std::string(issue_code_for_refusal(neg->code));
  if (!issue.detail_code.empty()) issue.detail_system = std::string(kAckErrorCodeSystem);
  issue.diagnostics = neg->text;
  a.issues.push_back(std::move(issue));
  return a;
}

FhirAcknowledgement make_transient_ack(const FhirAckIds& ids, const Party& sender,
                                       const Party& receiver, std::string_view diagnostics) {
  FhirAcknowledgement a;
  a.bundle_id = ids.bundle_id;
  a.header_id = ids.header_id;
  a.timestamp = ids.timestamp;
  a.response_identifier = ids.response_identifier;
  a.source_endpoint = ids.source_endpoint;
  a.destination_endpoint = ids.destination_endpoint;
  a.sender = org(sender);
  a.receiver = org(receiver);
  a.code = FhirAckCode::kTransientError;
  FhirAckIssue issue;
  issue.severity = "error";
  issue.code = "transient";
  issue.diagnostics = std::string(diagnostics);
  a.issues.push_back(std::move(issue));
  return a;
}

}  // namespace sektorbro::adapters
