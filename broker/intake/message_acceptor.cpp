#include "broker/intake/message_acceptor.hpp"

#include <algorithm>

#include "broker/intake/duplicate_rule.hpp"

namespace sektorbro {

Result<AcceptOutcome> accept_message(Store& store, const NewMessage& message) {
  std::vector<StoredVersions> stored;
  for (const NewLetter& letter : message.letters) {
    StoredVersions versions;
    auto latest = store.find_letter(message.sender_gln, letter.letter_id);
    if (!latest) return latest.error();
    versions.latest = std::move(*latest);
    if (versions.latest && versions.latest->content_hash != letter.content_hash) {
      auto earlier =
          store.find_letter_version(message.sender_gln, letter.letter_id, letter.content_hash);
      if (!earlier) return earlier.error();
      versions.earlier_same = *earlier;
    }
    stored.push_back(std::move(versions));
  }
  const DuplicateVerdict verdict = apply_duplicate_rule(message.letters, stored);
  AcceptOutcome out;
  switch (verdict.kind) {
    case DuplicateVerdict::Kind::kConflict:
      out.kind = AcceptOutcome::Kind::kConflict;
      out.conflicting_letter_id = verdict.conflicting_letter_id;
      return out;
    case DuplicateVerdict::Kind::kMixed:
      out.kind = AcceptOutcome::Kind::kMixed;
      return out;
    case DuplicateVerdict::Kind::kDuplicate: {
      out.kind = AcceptOutcome::Kind::kDuplicate;
      out.message_id = verdict.original_message_id;
      auto original = store.get_message(out.message_id);
      if (!original) return original.error();
      if (!*original) return make_error(Errc::kNotFound, "original message is gone");
      out.acceptance = (*original)->acceptance;
      if (auto r = store.append_event(MessageEvent{out.message_id, message.received_at,
                                                   "duplicate",
                                                   "resent in envelope " + message.envelope_id,
                                                   message.sender_endpoint});
          !r)
        return r.error();
      return out;
    }
    case DuplicateVerdict::Kind::kNew:
      break;
  }
  MessagePlan plan;
  plan.message = message;
  plan.supersedes = verdict.supersedes;
  plan.events.push_back(MessageEvent{0, message.received_at, "received",
                                     "envelope " + message.envelope_id + " from " +
                                         message.sender_gln + " to " + message.receiver_gln,
                                     message.sender_endpoint});
  for (const Supersession& s : plan.supersedes) {
    if (std::find(out.superseded.begin(), out.superseded.end(), s.old_message_id) !=
        out.superseded.end())
      continue;
    out.superseded.push_back(s.old_message_id);
    std::string how;
    for (const NewLetter& l : message.letters) {
      const bool replaces = std::any_of(
          plan.supersedes.begin(), plan.supersedes.end(), [&](const Supersession& t) {
            return t.old_message_id == s.old_message_id && t.letter_id == l.letter_id;
          });
      const std::string status(to_string(l.status));
      if (replaces && how.find(status) == std::string::npos)
        how += (how.empty() ? "" : ", ") + status;
    }
    plan.events.push_back(MessageEvent{s.old_message_id, message.received_at, "superseded",
                                       "by envelope " + message.envelope_id + ", " + how,
                                       message.sender_endpoint});
  }
  auto id = store.store_message(plan);
  if (!id) return id.error();
  out.kind = AcceptOutcome::Kind::kStored;
  out.message_id = *id;
  return out;
}

}  // namespace sektorbro
