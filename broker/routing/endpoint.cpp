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

std::string_view to_string(Dialect d) {
  switch (d) {
    case Dialect::kNative:
      return "native";
    case Dialect::kOioxml:
      return "oioxml";
    case Dialect::kSbdh:
      return "sbdh";
    case Dialect::kFhir:
      return "fhir";
  }
  return "?";
}

std::optional<Dialect> parse_dialect(std::string_view s) {
  if (s == "native") return Dialect::kNative;
  if (s == "oioxml") return Dialect::kOioxml;
  if (s == "sbdh") return Dialect::kSbdh;
  if (s == "fhir") return Dialect::kFhir;
  return std::nullopt;
}

}  // namespace sektorbro
