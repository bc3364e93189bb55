// accept_message: the MedCom duplicate rule (duplicate_rule.hpp) applied to an already built
// NewMessage against a store, and the resulting plan persisted — for writers that have no
// envelope to decide on: store-level tests and bulk loaders. The broker's intake decides on the
// envelope instead (intake_decision.hpp), which also checks references and deadlines.
// Reads go through the store's read side, so the letters must be committed to be seen.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "broker/store/store.hpp"

namespace sektorbro {

struct AcceptOutcome {
  enum class Kind { kStored, kDuplicate, kConflict, kMixed };
  Kind kind = Kind::kStored;
  std::int64_t message_id = 0;        // kStored: the new id; kDuplicate: the original's
  std::string acceptance;             // kDuplicate: the original answer, byte for byte
  std::string conflicting_letter_id;  // kConflict
  std::vector<std::int64_t> superseded = {};  // kStored: messages whose letters it replaced
};

// Writes "received" on the new message (or "duplicate" on the original, with the sender
// endpoint as actor) and "superseded" on replaced ones.
Result<AcceptOutcome> accept_message(Store& store, const NewMessage& message);

}  // namespace sektorbro
