// Business rules over a decoded envelope that need the time but no store: known form codes,
// LÆ285 deadline at least 8 days out, a decline only where the form allows one, discharge
// after admission, receipts carry no patient. Pure; any thread.
#pragma once

#include "broker/core/result.hpp"
#include "broker/core/time.hpp"
#include "broker/message/message.hpp"

namespace sektorbro {

// Returns kInvalid with the letter's position and the rule broken ("Letter[1]/CertificateRequest:
// LÆ285 reply deadline must be at least 8 days after receipt"). `now` is the broker's receipt
// time; day counts use the Europe/Copenhagen date.
Result<void> validate_envelope(const Envelope& envelope, TimePoint now);

}  // namespace sektorbro
