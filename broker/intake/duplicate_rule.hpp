// The MedCom duplicate rule (domain.md §3, reliable messaging): letter ids are unique per
// sender; a resend carries the same letters in a new envelope and gets exactly the first answer;
// a letter with status rettetbrev / annulleretbrev reuses its id on purpose and is a new version
// of that letter (domain.md §2). Pure: the caller says what the store holds for each letter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/store/store.hpp"

namespace sektorbro {

// What the store holds for one letter of an arriving message, keyed by (sender GLN, letter id).
struct StoredVersions {
  std::optional<LetterLocation> latest;  // none: the id was never used by this sender
  // The message of an earlier (superseded) version with the arriving letter's content hash, if
  // any: a late resend of a version that was since replaced.
  std::optional<std::int64_t> earlier_same;
};

struct DuplicateVerdict {
  enum class Kind {
    kNew,        // store it; `supersedes` lists the versions it replaces
    kDuplicate,  // every letter already stored, identically, in one message: answer as that one
    kConflict,   // a letter id reused for other content with status nytbrev: refuse
    kMixed,      // known and new letters together, or known ones from several messages: refuse
  };
  Kind kind = Kind::kNew;
  std::int64_t original_message_id = 0;  // kDuplicate
  std::string conflicting_letter_id;     // kConflict
  std::vector<Supersession> supersedes;  // kNew
};

// `stored[i]` describes `letters[i]`. A letter is the same when its content hash equals the
// latest version's or an earlier version's; otherwise a stored id makes it a new version when
// its status is rettetbrev / annulleretbrev and a conflict when it is nytbrev.
DuplicateVerdict apply_duplicate_rule(const std::vector<NewLetter>& letters,
                                      const std::vector<StoredVersions>& stored);

}  // namespace sektorbro
