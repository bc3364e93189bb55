// Builders for realistic messages between demo parties, shared by the integration tests, the
// demo simulator and the benchmark. CPR numbers here are fictitious but well-formed.
#pragma once

#include <string>

#include "broker/message/message.hpp"

namespace sektorbro::testing {

// A party with a valid GLN made from a 12-digit prefix (the check digit is computed).
Party make_party(const std::string& gln_prefix12, const std::string& sor, const std::string& name);

inline constexpr const char* kSampleCpr = "0101801234";

Envelope make_certificate_request(const Party& jobcenter, const Party& psychiatry,
                                  const std::string& envelope_id, const std::string& letter_id,
                                  TimePoint now, const std::string& form = "LÆ125",
                                  const std::string& cpr = kSampleCpr);
Envelope make_certificate(const Party& psychiatry, const Party& jobcenter,
                          const std::string& envelope_id, const std::string& letter_id,
                          const std::string& request_letter_id, TimePoint now,
                          const std::string& form = "LÆ125", const std::string& cpr = kSampleCpr);
Envelope make_discharge_notice(const Party& psychiatry, const Party& jobcenter,
                               const std::string& envelope_id, const std::string& letter_id,
                               TimePoint now, Date discharge, const std::string& cpr = kSampleCpr);
Envelope make_mentor_response(const Party& jobcenter, const Party& psychiatry,
                              const std::string& envelope_id, const std::string& letter_id,
                              const std::string& notice_letter_id, TimePoint now,
                              const std::string& cpr = kSampleCpr);
// The receipt that `original`'s receiver writes back to its sender.
Envelope make_positive_receipt(const Envelope& original, const std::string& envelope_id,
                               const std::string& letter_id, TimePoint now);
Envelope make_negative_receipt(const Envelope& original, const std::string& envelope_id,
                               const std::string& letter_id, TimePoint now, RefuseCode code,
                               const std::string& text);

}  // namespace sektorbro::testing
