// A configured endpoint: a jobcenter or psychiatry system the broker receives from and
// delivers to.
#pragma once

#include <string>
#include <vector>

#include "broker/message/message.hpp"

namespace sektorbro {

enum class EndpointKind { kJobcenter, kPsychiatry };
std::string_view to_string(EndpointKind k);  // "jobcenter", "psychiatry"

struct Endpoint {
  std::string id;          // short stable name used by operators, e.g. "jc-aarhus"
  Party party;             // GLN + SOR (+ identifier code) as letters must name it
  EndpointKind kind = EndpointKind::kJobcenter;
  std::string url;         // delivery URL (http:// or https://)
  std::vector<LetterType> accepts;  // letter types it takes; receipts are always accepted
};

}  // namespace sektorbro
