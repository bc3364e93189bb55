// Parties, a directory and a policy for the intake core's tests: a jobcenter and a psychiatry
// unit, both native, each taking what its kind receives.
#pragma once

#include "broker/deadlines/deadline_policy.hpp"
#include "broker/intake/intake_decision.hpp"
#include "tests/harness/sample_messages.hpp"

namespace sektorbro::testing {

inline Endpoint endpoint(const std::string& id, const Party& party, EndpointKind kind,
                         std::vector<LetterType> accepts) {
  Endpoint e;
  e.id = id;
  e.party = party;
  e.kind = kind;
  e.url = "http://127.0.0.1:1/" + id;
  e.accepts = std::move(accepts);
  return e;
}

struct IntakeWorld {
  Party jc = make_party("579000012345", "265161000016001", "Jobcenter Test");
  Party psy = make_party("579000054321", "265161000016003", "Psykiatrien Test");
  Directory directory{{
      endpoint("jc", jc, EndpointKind::kJobcenter,
               {LetterType::kCertificate, LetterType::kDischargeNotice, LetterType::kReminder}),
      endpoint("psy", psy, EndpointKind::kPsychiatry,
               {LetterType::kCertificateRequest, LetterType::kMentorResponse,
                LetterType::kReminder}),
  }};
  DeadlinePolicy policy = default_deadline_policy();
  WorkingCalendar calendar = calendar_for(policy);
  // A weekday morning in Copenhagen.
  TimePoint now = from_millis(1'764'576'000'000);  // 2025-12-01T08:00:00Z

  IntakeContext context(std::string authenticated = {}) const {
    return IntakeContext{directory, policy, calendar, Dialect::kNative, std::move(authenticated)};
  }
  // Facts for an envelope nothing of which is stored.
  static IntakeFacts nothing_stored(const Envelope& e) {
    IntakeFacts f;
    f.own.resize(e.letters.size());
    return f;
  }
};

}  // namespace sektorbro::testing
