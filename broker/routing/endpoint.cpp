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

std::string_view to_string(SbdhPayload p) {
  switch (p) {
    case SbdhPayload::kNative:
      return "native";
    case SbdhPayload::kOioxml:
      return "oioxml";
    case SbdhPayload::kFhir:
      return "fhir";
  }
  return "?";
}

std::optional<SbdhPayload> parse_sbdh_payload(std::string_view s) {
  if (s == "native") return SbdhPayload::kNative;
  if (s == "oioxml") return SbdhPayload::kOioxml;
  if (s == "fhir") return SbdhPayload::kFhir;
  return std::nullopt;
}

}  // namespace sektorbro
