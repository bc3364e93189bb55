// The FHIR adapters' fuzz oracle, shared by fuzz_fhir.cpp and the ctest case that replays the
// saved corpus (tests/fhir_corpus_replay_test.cpp). Any bytes go through the Acknowledgement and
// message readers: whatever parses is written and must parse again to the same value
// (Acknowledgement) or the same ids and parties (messages); whatever becomes a native envelope
// must go back out as FHIR that reads again. Returns false on a violation; never throws.
#pragma once

#include <string_view>

#include "adapters/fhir/fhir_acknowledgement.hpp"
#include "adapters/fhir/fhir_message.hpp"
#include "adapters/fhir/fhir_native.hpp"
#include "adapters/fhir/fhir_receipts.hpp"

namespace sektorbro::adapters {

inline bool fhir_oracle(std::string_view bytes) {
  if (auto ack = parse_fhir_acknowledgement(bytes)) {
    auto back = parse_fhir_acknowledgement(write_fhir_acknowledgement(*ack));
    if (!back || !(*back == *ack)) return false;
    (void)ack_to_native(*ack, {"E", {"L"}}, "R");
  }
  auto m = parse_fhir_message(bytes);
  if (!m) return true;
  auto again = parse_fhir_message(write_fhir_message(*m));
  if (!again || again->bundle_id != m->bundle_id || again->header_id != m->header_id ||
      again->event != m->event || !(again->sender == m->sender) ||
      !(again->receiver == m->receiver))
    return false;
  const TimePoint at = m->timestamp;
  auto native = fhir_to_native(*m, at);
  if (!native) return true;
  auto out = native_to_fhir(*native);
  if (!out) return true;
  return parse_fhir_message(write_fhir_message(*out)).ok();
}

}  // namespace sektorbro::adapters
