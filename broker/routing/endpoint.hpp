// A configured endpoint: a jobcenter or psychiatry system the broker receives from and
// delivers to.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/message/message.hpp"

namespace sektorbro {

enum class EndpointKind { kJobcenter, kPsychiatry };
std::string_view to_string(EndpointKind k);  // "jobcenter", "psychiatry"

// The message format an endpoint speaks (issue 4): Sektorbro's own Emessage, MedCom's classic
// OIOXML Emessage, a native Emessage inside an EHMI SBDH envelope, or MedCom's FHIR R4 messaging
// (issue 9: a Bundle of type message; CareCommunication, HospitalNotification, Acknowledgement).
// The broker accepts that dialect from the endpoint and delivers to it in that dialect.
enum class Dialect { kNative, kOioxml, kSbdh, kFhir };
std::string_view to_string(Dialect d);  // "native", "oioxml", "sbdh", "fhir"
std::optional<Dialect> parse_dialect(std::string_view s);

// What an EHMI SBDH envelope carries for a receiver (issue 9; config "sbdh_payload"):
// Sektorbro's native Emessage (the default), a classic OIOXML Emessage, or a MedCom FHIR message.
enum class SbdhPayload { kNative, kOioxml, kFhir };
std::string_view to_string(SbdhPayload p);  // "native", "oioxml", "fhir"
std::optional<SbdhPayload> parse_sbdh_payload(std::string_view s);

struct Endpoint {
  std::string id;  // short stable name used by operators, e.g. "jc-aarhus"
  Party party;     // GLN + SOR (+ identifier code) as letters must name it
  EndpointKind kind = EndpointKind::kJobcenter;
  std::string url;                  // delivery URL (http:// or https://)
  std::vector<LetterType> accepts;  // letter types it takes; receipts are always accepted
  Dialect dialect = Dialect::kNative;
  std::string inbox;  // file drop: a folder the broker takes this endpoint's files from, or empty
  // How long this receiver has to send its receipt before the broker resends; unset: the
  // delivery-wide default (MedCom's texts say 15 or 30 minutes, EHMI's samples 10).
  std::optional<std::chrono::milliseconds> receipt_timeout;
  // dialect sbdh: the payload inside the envelope (what it receives; it may send any).
  SbdhPayload sbdh_payload = SbdhPayload::kNative;
  // dialect fhir: deliveries as FHIR JSON (application/fhir+json) instead of FHIR XML (issue 9;
  // config "fhir_format": "json"). It may send either.
  bool fhir_json = false;

  bool pulls_from_mailbox() const { return url == "mailbox:"; }
};

}  // namespace sektorbro
