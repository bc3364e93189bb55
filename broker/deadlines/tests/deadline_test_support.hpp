// Letters and instants for the deadline engine's tests. Instants are written in UTC by hand
// (CET = UTC+1, CEST = UTC+2 from 29 March to 25 October 2026), never computed by the code under
// test.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "broker/core/time.hpp"
#include "broker/deadlines/deadline.hpp"
#include "broker/message/message.hpp"

namespace sektorbro::test {

using namespace std::chrono;

inline constexpr const char* kJobcenterGln = "5790000000005";
inline constexpr const char* kPsychiatryGln = "5790000000012";
inline constexpr const char* kTestCpr = "0101801234";  // never expected in any text

// `d` at hh:mm UTC.
inline TimePoint utc(Date d, int hh, int mm = 0) {
  return TimePoint{sys_days{d}} + hours{hh} + minutes{mm};
}

inline Party party(const char* gln) { return Party{gln, "12345", "", "", ""}; }

inline Letter certificate_request(const std::string& id, const std::string& form,
                                  std::optional<Date> reply_deadline = std::nullopt,
                                  LetterStatus status = LetterStatus::kNew) {
  Letter l;
  l.id = id;
  l.status = status;
  l.sender = party(kJobcenterGln);
  l.receiver = party(kPsychiatryGln);
  l.patient = Patient{kTestCpr};
  l.body = CertificateRequest{form, "case-1", {"Hvordan går det?"}, reply_deadline};
  return l;
}

inline Letter certificate(const std::string& request_id, const std::string& form,
                          bool declined = false) {
  Letter l;
  l.id = "C" + request_id;
  l.sender = party(kPsychiatryGln);
  l.receiver = party(kJobcenterGln);
  l.patient = Patient{kTestCpr};
  l.body = Certificate{form, request_id, declined, declined ? "no consultation" : "", "text"};
  return l;
}

inline Letter discharge_notice(const std::string& id, Date discharge,
                               LetterStatus status = LetterStatus::kNew) {
  Letter l;
  l.id = id;
  l.status = status;
  l.sender = party(kPsychiatryGln);
  l.receiver = party(kJobcenterGln);
  l.patient = Patient{kTestCpr};
  l.body = DischargeNotice{Date{2026y / January / 5}, discharge, true, true, "afsnit P1"};
  return l;
}

inline Letter mentor_response(const std::string& notice_id) {
  Letter l;
  l.id = "M" + notice_id;
  l.sender = party(kJobcenterGln);
  l.receiver = party(kPsychiatryGln);
  l.patient = Patient{kTestCpr};
  l.body = MentorResponse{notice_id, MentorOutcome::kAccepted, "", ""};
  return l;
}

inline const DeadlineParties kToPsychiatry{"psy-a", "jc-x"};
inline const DeadlineParties kToJobcenter{"jc-x", "psy-a"};

}  // namespace sektorbro::test
