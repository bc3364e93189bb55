#include "tests/harness/sample_messages.hpp"

#include "broker/core/copenhagen_time.hpp"
#include "broker/core/identifiers.hpp"

namespace sektorbro::testing {
namespace {

Letter base_letter(const Party& from, const Party& to, const std::string& id, TimePoint now,
                   const std::string& cpr) {
  Letter l;
  l.id = id;
  l.status = LetterStatus::kNew;
  l.authorised = now;
  l.sender = from;
  l.receiver = to;
  if (!cpr.empty()) l.patient = Patient{cpr};
  return l;
}

Envelope envelope_of(Letter letter, const std::string& envelope_id, TimePoint now,
                     bool want_receipt) {
  Envelope e;
  e.id = envelope_id;
  e.sent = now;
  e.positive_receipt_requested = want_receipt;
  e.letters.push_back(std::move(letter));
  return e;
}

}  // namespace

Party make_party(const std::string& gln_prefix12, const std::string& sor, const std::string& name) {
  Party p;
  p.gln = gln_prefix12 + gln_check_digit(gln_prefix12);
  p.sor = sor;
  p.name = name;
  return p;
}

Envelope make_certificate_request(const Party& jobcenter, const Party& psychiatry,
                                  const std::string& envelope_id, const std::string& letter_id,
                                  TimePoint now, const std::string& form, const std::string& cpr) {
  Letter l = base_letter(jobcenter, psychiatry, letter_id, now, cpr);
  CertificateRequest body;
  body.form = form;
  body.case_reference = "SAG-2026-" + letter_id;
  body.questions = {"Hvilke helbredsmæssige forhold har betydning for borgerens arbejdsevne?",
                    "Hvilken behandling er iværksat, og hvad er den forventede varighed?"};
  if (form == "LÆ285") {
    body.reply_deadline = Date{std::chrono::sys_days{copenhagen_date(now)} + std::chrono::days{14}};
  }
  l.body = std::move(body);
  return envelope_of(std::move(l), envelope_id, now, true);
}

Envelope make_certificate(const Party& psychiatry, const Party& jobcenter,
                          const std::string& envelope_id, const std::string& letter_id,
                          const std::string& request_letter_id, TimePoint now,
                          const std::string& form, const std::string& cpr) {
  Letter l = base_letter(psychiatry, jobcenter, letter_id, now, cpr);
  Certificate body;
  body.form = form;
  body.request_letter_id = request_letter_id;
  body.text = "Borgeren er i ambulant behandling; arbejdsevnen er midlertidigt nedsat.";
  l.body = std::move(body);
  return envelope_of(std::move(l), envelope_id, now, true);
}

Envelope make_discharge_notice(const Party& psychiatry, const Party& jobcenter,
                               const std::string& envelope_id, const std::string& letter_id,
                               TimePoint now, Date discharge, const std::string& cpr) {
  Letter l = base_letter(psychiatry, jobcenter, letter_id, now, cpr);
  DischargeNotice body;
  body.admission_date = Date{std::chrono::sys_days{discharge} - std::chrono::days{30}};
  body.discharge_date = discharge;
  body.mentor_entitled = true;
  body.consent = true;
  body.department = "Afsnit P2";
  l.body = std::move(body);
  return envelope_of(std::move(l), envelope_id, now, true);
}

Envelope make_mentor_response(const Party& jobcenter, const Party& psychiatry,
                              const std::string& envelope_id, const std::string& letter_id,
                              const std::string& notice_letter_id, TimePoint now,
                              const std::string& cpr) {
  Letter l = base_letter(jobcenter, psychiatry, letter_id, now, cpr);
  MentorResponse body;
  body.notice_letter_id = notice_letter_id;
  body.outcome = MentorOutcome::kAccepted;
  body.mentor_name = "Mentorteamet";
  body.mentor_phone = "+4512345678";
  l.body = std::move(body);
  return envelope_of(std::move(l), envelope_id, now, true);
}

Envelope make_positive_receipt(const Envelope& original, const std::string& envelope_id,
                               const std::string& letter_id, TimePoint now) {
  Letter l = base_letter(original.receiver(), original.sender(), letter_id, now, "");
  PositiveReceipt body;
  body.original.original_envelope_id = original.id;
  for (const auto& o : original.letters) body.original.original_letter_ids.push_back(o.id);
  l.body = std::move(body);
  return envelope_of(std::move(l), envelope_id, now, false);
}

Envelope make_negative_receipt(const Envelope& original, const std::string& envelope_id,
                               const std::string& letter_id, TimePoint now, RefuseCode code,
                               const std::string& text) {
  Letter l = base_letter(original.receiver(), original.sender(), letter_id, now, "");
  NegativeReceipt body;
  body.level = ReceiptLevel::kApplication;
  body.code = code;
  body.text = text;
  body.original.original_envelope_id = original.id;
  for (const auto& o : original.letters) body.original.original_letter_ids.push_back(o.id);
  l.body = std::move(body);
  return envelope_of(std::move(l), envelope_id, now, false);
}

}  // namespace sektorbro::testing
