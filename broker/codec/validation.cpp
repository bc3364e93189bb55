#include "broker/codec/validation.hpp"

#include <string>
#include <variant>

#include "broker/core/copenhagen_time.hpp"
#include "broker/core/identifiers.hpp"
#include "broker/message/forms.hpp"

namespace sektorbro {
namespace {

Error invalid(const std::string& path, std::string_view rule) {
  return make_error(Errc::kInvalid, path + ": " + std::string(rule));
}

// The path of a letter's body element, "Letter[n]/<BodyElement>" followed by `suffix`: built
// only for an error's detail (issue 8: built for every letter, these paths were a few
// allocations per message received).
struct BodyPath {
  std::size_t index;  // of the letter, from 0
  LetterType type;
  std::string operator()(std::string_view suffix = {}) const {
    std::string out = "Letter[" + std::to_string(index + 1) + "]/";
    out.append(to_string(type));
    out.append(suffix);
    return out;
  }
};

Result<void> check_reference_id(const BodyPath& path, std::string_view suffix,
                                std::string_view id) {
  if (!is_valid_message_id(id)) return invalid(path(suffix), "not a valid message identifier");
  return {};
}

Result<void> check_receipt_ids(const BodyPath& path, const ReceiptReference& ref) {
  if (auto r = check_reference_id(path, "/OriginalEnvelopeIdentifier", ref.original_envelope_id);
      !r)
    return r;
  for (std::size_t i = 0; i < ref.original_letter_ids.size(); ++i)
    if (!is_valid_message_id(ref.original_letter_ids[i]))
      return invalid(path("/OriginalLetterIdentifier[" + std::to_string(i + 1) + "]"),
                     "not a valid message identifier");
  return {};
}

struct BodyRules {
  BodyPath path;        // "Letter[n]/<BodyElement>", for errors
  Date today;           // the Copenhagen date of receipt
  LetterStatus status;  // new, corrected or cancelled

  Result<void> operator()(const CertificateRequest& b) const {
    const auto form = find_form(b.form);
    if (!form) return invalid(path("/Form"), "unknown form");
    if (form->deadline_in_request) {
      // LÆ285: the municipality sets the deadline, never fewer than 8 days out (domain.md §5).
      // That rule is for a new request (issue 12, item 19): a cancellation must always be
      // possible, and a correction is weighed against the deadline it corrects, which only the
      // deadline engine knows (correct(): a same-form correction keeping the date is taken).
      if (status == LetterStatus::kCancelled) return {};
      if (!b.reply_deadline)
        return invalid(path("/ReplyDeadline"),
                       std::string(form->code) + " requests must set a reply deadline");
      if (status != LetterStatus::kNew) return {};
      const auto earliest =
          std::chrono::sys_days{today} + std::chrono::days{kMinimumLae285DeadlineDays};
      if (std::chrono::sys_days{*b.reply_deadline} < earliest)
        return invalid(path("/ReplyDeadline"),
                       std::string(form->code) + " reply deadline must be at least " +
                           std::to_string(kMinimumLae285DeadlineDays) + " days after receipt");
    } else if (b.reply_deadline) {
      return invalid(path("/ReplyDeadline"),
                     "the deadline of " + std::string(form->code) +
                         " follows from the agreement; a request must not set one");
    }
    return {};
  }

  Result<void> operator()(const Certificate& b) const {
    const auto form = find_form(b.form);
    if (!form) return invalid(path("/Form"), "unknown form");
    if (auto r = check_reference_id(path, "/RequestLetterIdentifier", b.request_letter_id); !r)
      return r;
    if (b.declined) {
      if (!form->may_decline)
        return invalid(path("/Declined"), std::string(form->code) + " may not be declined");
      if (b.decline_reason.empty())
        return invalid(path("/Declined/Reason"), "a decline needs a reason");
      if (!b.text.empty()) return invalid(path("/Declined"), "a decline carries no text");
    } else {
      if (b.text.empty()) return invalid(path("/Text"), "must not be empty");
      if (!b.decline_reason.empty())
        return invalid(path("/Text"), "a certificate that is not declined has no decline reason");
    }
    return {};
  }

  Result<void> operator()(const DischargeNotice& b) const {
    if (std::chrono::sys_days{b.discharge_date} < std::chrono::sys_days{b.admission_date})
      return invalid(path("/DischargeDate"), "must not be before AdmissionDate");
    return {};
  }

  // HospitalStayNotice: the stay's start, and the end and event time when given, are an
  // xs:dateTime with a zone or an xs:date; the end not before the start (compared as given when
  // both are of one kind).
  Result<void> operator()(const HospitalStayNotice& b) const {
    const auto is_time = [](std::string_view s) {
      return parse_timestamp(s).has_value() || (s.size() == 10 && parse_date(s).has_value());
    };
    if (!is_time(b.stay_start))
      return invalid(path("/StayStart"), "expected a date or a dateTime with a zone");
    if (!b.stay_end.empty() && !is_time(b.stay_end))
      return invalid(path("/StayEnd"), "expected a date or a dateTime with a zone");
    if (!b.event_time.empty() && !parse_timestamp(b.event_time))
      return invalid(path("/EventTime"), "expected a dateTime with a zone");
    if (!b.stay_end.empty() && b.stay_end.size() == 10 && b.stay_start.size() == 10 &&
        b.stay_end < b.stay_start)
      return invalid(path("/StayEnd"), "must not be before StayStart");
    if (!b.stay_end.empty()) {
      const auto start = parse_timestamp(b.stay_start);
      const auto end = parse_timestamp(b.stay_end);
      if (start && end && *end < *start)
        return invalid(path("/StayEnd"), "must not be before StayStart");
    }
    return {};
  }

  Result<void> operator()(const MentorResponse& b) const {
    return check_reference_id(path, "/NoticeLetterIdentifier", b.notice_letter_id);
  }

  Result<void> operator()(const Reminder& b) const {
    if (auto r = check_reference_id(path, "/OriginalLetterIdentifier", b.original_letter_id); !r)
      return r;
    if (b.step < 1) return invalid(path("/Step"), "must be at least 1");
    return {};
  }

  Result<void> operator()(const PositiveReceipt& b) const {
    if (b.original.original_letter_ids.empty())
      return invalid(path(), "a positive receipt names at least one OriginalLetterIdentifier");
    return check_receipt_ids(path, b.original);
  }

  Result<void> operator()(const NegativeReceipt& b) const {
    // A network refusal of an unparseable message may name no letter.
    return check_receipt_ids(path, b.original);
  }

  // The codec refuses empty values; this catches letters built in code (adapters).
  Result<void> operator()(const Correspondence& b) const {
    if (b.subject.empty()) return invalid(path("/Subject"), "must not be empty");
    if (b.text.empty()) return invalid(path("/Text"), "must not be empty");
    return {};
  }
};

}  // namespace

Result<void> validate_envelope(const Envelope& envelope, TimePoint now) {
  if (envelope.letters.empty())
    return invalid("Emessage", "an envelope carries at least one letter");
  const bool receipts = is_receipt(envelope.letters.front().type());
  for (std::size_t i = 1; i < envelope.letters.size(); ++i)
    if (is_receipt(envelope.letters[i].type()) != receipts)
      return invalid("Letter[" + std::to_string(i + 1) + "]",
                     "receipts must not share an envelope with other letters");
  // Receipts are never receipted (MedCom; domain.md §3).
  if (receipts && envelope.positive_receipt_requested)
    return invalid("Envelope/AcknowledgementCode",
                   "an envelope of receipts must carry minuspositivkvitt");

  const Date today = copenhagen_date(now);
  for (std::size_t i = 0; i < envelope.letters.size(); ++i) {
    const Letter& letter = envelope.letters[i];
    const BodyRules rules{BodyPath{i, letter.type()}, today, letter.status};
    if (auto r = std::visit(rules, letter.body); !r) return r;
  }
  return {};
}

}  // namespace sektorbro
