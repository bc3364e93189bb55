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

inline Party party(const char* gln) {
  Party p;
  p.gln = gln;
  p.sor = "12345";
  return p;
}

inline Patient patient() {
  Patient p;
  p.cpr = kTestCpr;
  return p;
}

inline Letter certificate_request(const std::string& id, const std::string& form,
                                  std::optional<Date> reply_deadline = std::nullopt,
                                  LetterStatus status = LetterStatus::kNew) {
  Letter l;
  l.id = id;
  l.status = status;
  l.sender = party(kJobcenterGln);
  l.receiver = party(kPsychiatryGln);
  l.patient = patient();
  CertificateRequest body;
  body.form = form;
  body.case_reference = "case-1";
  body.questions = {"Hvordan går det?"};
  body.reply_deadline = reply_deadline;
  l.body = body;
  return l;
}

inline Letter certificate(const std::string& request_id, const std::string& form,
                          bool declined = false) {
  Letter l;
  l.id = "C" + request_id;
  l.sender = party(kPsychiatryGln);
  l.receiver = party(kJobcenterGln);
  l.patient = patient();
  Certificate body;
  body.form = form;
  body.request_letter_id = request_id;
  body.declined = declined;
  body.decline_reason = declined ? "no consultation" : "";
  body.text = "text";
  l.body = body;
  return l;
}

inline Letter discharge_notice(const std::string& id, Date discharge,
                               LetterStatus status = LetterStatus::kNew) {
  Letter l;
  l.id = id;
  l.status = status;
  l.sender = party(kPsychiatryGln);
  l.receiver = party(kJobcenterGln);
  l.patient = patient();
  DischargeNotice body;
  body.admission_date = Date{2026y / January / 5};
  body.discharge_date = discharge;
  body.mentor_entitled = true;
  body.consent = true;
  body.department = "afsnit P1";
  l.body = body;
  return l;
}

inline Letter mentor_response(const std::string& notice_id) {
  Letter l;
  l.id = "M" + notice_id;
  l.sender = party(kJobcenterGln);
  l.receiver = party(kPsychiatryGln);
  l.patient = patient();
  MentorResponse body;
  body.notice_letter_id = notice_id;
  body.outcome = MentorOutcome::kAccepted;
  l.body = body;
  return l;
}

inline const DeadlineParties kToPsychiatry{"psy-a", "jc-x"};
inline const DeadlineParties kToJobcenter{"jc-x", "psy-a"};

}  // namespace sektorbro::test
