#include "broker/routing/endpoint.hpp"

namespace sektorbro {

std::string_view to_string(EndpointKind k) {
  switch (k) {
    case EndpointKind::kJobcenter:
      return "jobcenter";
    case EndpointKind::kPsychiatry:
      return "psychiatry";
  }
  return "?";
}

}  // namespace sektorbro
