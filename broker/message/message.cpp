#include "broker/message/message.hpp"

#include <array>
#include <utility>

namespace sektorbro {
namespace {

template <typename E, std::size_t N>
std::optional<E> lookup(const std::array<std::pair<E, std::string_view>, N>& table,
                        std::string_view s) {
  for (const auto& [value, name] : table)
    if (name == s) return value;
  return std::nullopt;
}

template <typename E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (const auto& [value, name] : table)
    if (value == e) return name;
  return "?";
}

constexpr std::array<std::pair<LetterType, std::string_view>, 9> kLetterTypes{{
    {LetterType::kCertificateRequest, "CertificateRequest"},
    {LetterType::kCertificate, "Certificate"},
    {LetterType::kDischargeNotice, "DischargeNotice"},
    {LetterType::kMentorResponse, "MentorResponse"},
    {LetterType::kReminder, "Reminder"},
    {LetterType::kPositiveReceipt, "PositiveReceipt"},
    {LetterType::kNegativeReceipt, "NegativeReceipt"},
    {LetterType::kCorrespondence, "Correspondence"},
    {LetterType::kHospitalStayNotice, "HospitalStayNotice"},
}};
constexpr std::array<std::pair<HospitalStayEvent, std::string_view>, 5> kStayEvents{{
    {HospitalStayEvent::kAdmitInpatient, "admit-inpatient"},
    {HospitalStayEvent::kAdmitEmergency, "admit-emergency"},
    {HospitalStayEvent::kStartLeave, "start-leave-inpatient"},
    {HospitalStayEvent::kEndLeave, "end-leave-inpatient"},
    {HospitalStayEvent::kDischargeEmergency, "discharge-emergency-home"},
}};
constexpr std::array<std::pair<LetterStatus, std::string_view>, 3> kStatuses{{
    {LetterStatus::kNew, "nytbrev"},
    {LetterStatus::kCorrected, "rettetbrev"},
    {LetterStatus::kCancelled, "annulleretbrev"},
}};
constexpr std::array<std::pair<RefuseCode, std::string_view>, 5> kRefuseCodes{{
    {RefuseCode::kUnspecified, "ikke_specificeret"},
    {RefuseCode::kUnknownLocation, "ukendt_lokationsnummer"},
    {RefuseCode::kReceiverIdProblem, "problem_med_modtagerID"},
    {RefuseCode::kVersionProblem, "problem_med_version"},
    {RefuseCode::kSyntaxError, "syntaksfejl"},
}};
constexpr std::array<std::pair<MentorOutcome, std::string_view>, 4> kOutcomes{{
    {MentorOutcome::kOffered, "offered"},
    {MentorOutcome::kAccepted, "accepted"},
    {MentorOutcome::kDeclined, "declined"},
    {MentorOutcome::kNotReached, "not-reached"},
}};
constexpr std::array<std::pair<ReceiptLevel, std::string_view>, 2> kLevels{{
    {ReceiptLevel::kNetwork, "network"},
    {ReceiptLevel::kApplication, "application"},
}};

}  // namespace

std::string_view to_string(LetterType t) { return name_of(kLetterTypes, t); }
std::optional<LetterType> parse_letter_type(std::string_view s) { return lookup(kLetterTypes, s); }
std::string_view to_string(HospitalStayEvent e) { return name_of(kStayEvents, e); }
std::optional<HospitalStayEvent> parse_hospital_stay_event(std::string_view s) {
  return lookup(kStayEvents, s);
}
std::string_view to_string(LetterStatus s) { return name_of(kStatuses, s); }
std::optional<LetterStatus> parse_letter_status(std::string_view s) { return lookup(kStatuses, s); }
std::string_view to_string(RefuseCode c) { return name_of(kRefuseCodes, c); }
std::optional<RefuseCode> parse_refuse_code(std::string_view s) { return lookup(kRefuseCodes, s); }
std::string_view to_string(MentorOutcome o) { return name_of(kOutcomes, o); }
std::optional<MentorOutcome> parse_mentor_outcome(std::string_view s) {
  return lookup(kOutcomes, s);
}
std::string_view to_string(ReceiptLevel l) { return name_of(kLevels, l); }
std::optional<ReceiptLevel> parse_receipt_level(std::string_view s) { return lookup(kLevels, s); }

}  // namespace sektorbro
