// FreshMessages: the messages Intake has just stored, kept in memory for their first delivery
// attempt, so the attempt reads nothing back from the store (issue 8). Bounded by the bytes the
// entries hold — the body, the letters' rows, the decoded CertificateRequests whose deadlines
// open at delivery — not by the body alone: counting only the body let a backlog hold ~4× the
// bound (docs/performance.md, "What a backlog holds in memory"). Beyond the bound a message is
// not kept and its attempt reads the store, as after a restart.
//
// An entry keeps its own copy of what the attempt needs, never the intake plan: the plan also
// holds the packed body, the acceptance, the events and deadlines the writer has written.
// Pure bookkeeping, no I/O; owned by the io thread (no locks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "broker/message/message.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

class FreshMessages {
 public:
  // The bound of the shipped broker: a burst of ~6,000 of the side-by-side bench's 4 KB
  // certificate requests, ~12 times the letters the load keeps in flight.
  static constexpr std::size_t kDefaultLimitBytes = 64 * 1024 * 1024;

  struct Entry {
    MessageRecord record;  // as the store would give it: pending, no attempt yet
    // The message's CertificateRequest letters as Intake decoded them; null when it has none.
    std::shared_ptr<const std::vector<Letter>> requests;
    std::size_t bytes = 0;  // what the entry holds, about (footprint())
  };

  explicit FreshMessages(std::size_t limit_bytes = kDefaultLimitBytes) : limit_(limit_bytes) {}

  // Keeps message `id` as `plan` stored it, if it fits in the bound; false if it does not (or
  // `id` is kept already). Copies what an attempt needs; the plan is not kept.
  bool remember(std::int64_t id, const MessagePlan& plan,
                std::shared_ptr<const std::vector<Letter>> requests);
  // Takes the entry of `id` out, if kept.
  std::optional<Entry> take(std::int64_t id);
  // Forgets `id` (its attempt will not happen here).
  void forget(std::int64_t id);

  std::size_t bytes() const { return bytes_; }
  std::size_t size() const { return entries_.size(); }
  std::size_t limit() const { return limit_; }

  // About what an entry for `message` holds in memory: its strings and letters, and the decoded
  // requests (each about its XML's size: approximate_letter_bytes in codec.hpp).
  static std::size_t footprint(const NewMessage& message, const std::vector<Letter>* requests);

 private:
  std::size_t limit_;
  std::size_t bytes_ = 0;
  std::unordered_map<std::int64_t, Entry> entries_;
};

}  // namespace sektorbro
