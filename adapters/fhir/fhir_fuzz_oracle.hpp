// The FHIR adapters' fuzz oracle, shared by fuzz_fhir.cpp and the ctest case that replays the
// saved corpus (tests/fhir_corpus_replay_test.cpp). Any bytes go through the Acknowledgement and
// message readers: whatever parses is written and must parse again to the same value
// (Acknowledgement) or the same ids and parties (messages); whatever becomes a native envelope
// must go back out as FHIR that reads again. FHIR JSON (fhir_json.hpp) is read as its XML form
// and must survive JSON → XML → JSON → XML as the same message; a FHIR XML message must survive
// XML → JSON → XML. Returns false on a violation; never throws.
#pragma once

#include <string_view>

#include "adapters/fhir/fhir_acknowledgement.hpp"
#include "adapters/fhir/fhir_json.hpp"
#include "adapters/fhir/fhir_message.hpp"
#include "adapters/fhir/fhir_native.hpp"
#include "adapters/fhir/fhir_receipts.hpp"

namespace sektorbro::adapters {

inline bool fhir_xml_oracle(std::string_view bytes);

// The message as its other representation and back reads the same.
inline bool same_through_json(std::string_view xml) {
  auto m = parse_fhir_message(xml);
  auto a = parse_fhir_acknowledgement(xml);
  if (!m && !a) return true;
  auto json = fhir_xml_to_json(xml);
  if (!json) return false;
  auto back = fhir_json_to_xml(*json);
  if (!back) return false;
  if (m) {
    auto again = parse_fhir_message(*back);
    if (!again || !(*again == *m)) return false;
  }
  if (a) {
    auto again = parse_fhir_acknowledgement(*back);
    if (!again || !(*again == *a)) return false;
  }
  return true;
}

inline bool fhir_oracle(std::string_view bytes) {
  if (looks_like_json(bytes)) {
    auto xml = fhir_json_to_xml(bytes);
    if (!xml) return true;
    return same_through_json(*xml) && fhir_xml_oracle(*xml);
  }
  return same_through_json(bytes) && fhir_xml_oracle(bytes);
}

inline bool fhir_xml_oracle(std::string_view bytes) {
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
