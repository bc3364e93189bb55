#include "broker/intake/duplicate_rule.hpp"

#include <set>

namespace sektorbro {

DuplicateVerdict apply_duplicate_rule(const std::vector<NewLetter>& letters,
                                      const std::vector<StoredVersions>& stored) {
  DuplicateVerdict out;
  std::size_t n_same = 0;
  std::set<std::int64_t> same_in;
  std::set<std::string> superseded_ids;
  for (std::size_t i = 0; i < letters.size(); ++i) {
    const NewLetter& letter = letters[i];
    const StoredVersions& s = i < stored.size() ? stored[i] : StoredVersions{};
    if (!s.latest) continue;  // a new letter
    if (s.latest->content_hash == letter.content_hash) {
      ++n_same;
      same_in.insert(s.latest->message_id);
      continue;
    }
    if (s.earlier_same) {
      ++n_same;
      same_in.insert(*s.earlier_same);
      continue;
    }
    if (letter.status == LetterStatus::kNew) {
      out.kind = DuplicateVerdict::Kind::kConflict;
      out.conflicting_letter_id = letter.letter_id;
      return out;
    }
    // A letter id twice in one message cannot supersede itself: the second is a conflict.
    if (!superseded_ids.insert(letter.letter_id).second) {
      out.kind = DuplicateVerdict::Kind::kConflict;
      out.conflicting_letter_id = letter.letter_id;
      return out;
    }
    out.supersedes.push_back({letter.letter_id, s.latest->message_id, s.latest->content_hash});
  }
  if (n_same == letters.size() && same_in.size() == 1) {
    out.kind = DuplicateVerdict::Kind::kDuplicate;
    out.original_message_id = *same_in.begin();
    out.supersedes.clear();
    return out;
  }
  if (n_same > 0) {
    out.kind = DuplicateVerdict::Kind::kMixed;
    out.supersedes.clear();
  }
  return out;
}

}  // namespace sektorbro
