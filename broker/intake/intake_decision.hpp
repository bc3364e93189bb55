// The intake decision: the pure heart of receiving (issue 8; nghttp2's I/O-free core). Given a
// decoded envelope, the endpoint directory, what the store holds about the letters it names or
// refers to, and the time, it says what happens: a refusal (with the error that picks the
// MedCom refuse code), a duplicate (answered as the first time), or an accept plan — exactly
// what one commit writes: the message, the letter versions it supersedes, the receipts it
// matches, the deadlines it opens, answers, corrects or cancels, and the timeline events.
//
// The shell (broker/server/intake.cpp) asks facts_needed() what to read, reads it from the store
// (one lookup per letter), calls decide_intake(), and has the store persist the plan. The store
// checks the plan's preconditions when it writes (Errc::kStale), so a decision made on facts that
// changed meanwhile is made again, never written. No I/O here; any thread.
#pragma once

#include <map>
#include <string>
#include <variant>
#include <vector>

#include "broker/deadlines/calendar.hpp"
#include "broker/deadlines/deadline.hpp"
#include "broker/deadlines/deadline_policy.hpp"
#include "broker/intake/duplicate_rule.hpp"
#include "broker/intake/receipt_match.hpp"
#include "broker/routing/router.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

// A letter as MedCom identifies it: unique per sender (domain.md §3).
struct LetterKey {
  std::string sender_gln;
  std::string letter_id;
  auto operator<=>(const LetterKey&) const = default;
};

// What the store holds that the decision needs.
struct IntakeFacts {
  // Per letter of the envelope, in order: its stored versions under (sender GLN, letter id).
  std::vector<StoredVersions> own;
  // Letters the envelope refers to (a request, a notice, receipted letters), by (their sender =
  // this envelope's receiver, id); only those stored.
  std::map<LetterKey, LetterLocation> referenced;
  // Deadlines the letters may change; only those that exist.
  std::map<DeadlineKey, Deadline> deadlines;
  // Issue 9: for each letter a receipt names (keyed as `referenced`), what the envelope id the
  // receipt names says (answered_among, receipt_match.hpp): the message it answers — a resend's
  // or an older version's, not the letter's latest — or that the envelope never carried the
  // letter to the receipt's writer (refused). A letter with no entry here is taken at its
  // latest version (`referenced`).
  std::map<LetterKey, AnsweredMessage> answered;
};

// What to read for facts: `referenced` and `deadlines` keys (own letters are read per letter),
// and for `answered` each letter a receipt names with the envelope id it names
// (broker/server/answered_message.hpp reads the candidates: answered_by_envelope).
struct NamedEnvelope {
  LetterKey letter;         // the original letter: its sender (the receipt's receiver) and id
  std::string envelope_id;  // ReceiptReference::original_envelope_id
};
struct FactsNeeded {
  std::vector<LetterKey> referenced;
  std::vector<DeadlineKey> deadlines;
  std::vector<NamedEnvelope> receipt_envelopes;
};
FactsNeeded facts_needed(const Envelope& envelope);

// The letters of an envelope as the store keys them: id, type, SHA-256 of the canonical
// letter, status. The shell needs the hashes to read facts; the decision takes them back.
std::vector<NewLetter> letters_of(const Envelope& envelope);

// OIOXML names parties by EAN (GLN) only: fills in SOR codes the directory knows (and the
// broker's own), before validation.
void complete_parties(Envelope& envelope, const Directory& directory, const Party& broker);

struct IntakeContext {
  const Directory& directory;
  const DeadlinePolicy& policy;
  const WorkingCalendar& calendar;
  Dialect dialect = Dialect::kNative;  // the dialect the document arrived in
  std::string authenticated = {};      // the endpoint the transport authenticated; empty: none
  // The document was a plain MedCom FHIR message (Inbound::fhir): it arrived in the "fhir"
  // dialect whatever `dialect` says (a FHIR payload inside SBDH is "sbdh").
  bool fhir = false;
};

struct IntakeRefusal {
  Error error;  // its code picks the HTTP status and the MedCom refuse code
};
struct IntakeDuplicate {
  std::int64_t original_message_id = 0;
  MessageEvent event;  // "duplicate", for the original's timeline
};
struct IntakeAccept {
  MessagePlan plan;
  std::vector<std::string> alerts;  // operator alerts to log once stored (no CPR, no content)
};
using IntakeDecision = std::variant<IntakeRefusal, IntakeDuplicate, IntakeAccept>;

// Whether an endpoint of `kind` may send letters of `type` (domain.md §5–7, issue 12 item 1):
// a jobcenter requests certificates and answers discharge notices, a psychiatry unit certifies
// and notifies; receipts and Correspondence from both; Reminders from the broker only.
bool kind_sends(EndpointKind kind, LetterType type);

// How a deadline that was opened or changed reads on the timeline (no CPR, no content).
std::string opened_deadline_text(const Deadline& d);

// `letters` is letters_of(envelope); `facts` was read for this envelope. The checks, in order:
// validation (codec), routing, the authenticated sender, the sender's dialect, what the
// receiver's dialect can carry, letter ids unique within the envelope, the MedCom duplicate
// rule, references (a reply answers a letter sent to its sender; a receipt names letters sent to
// its sender, and lands on the message of each that the envelope id it names carried: facts'
// `answered`), and the deadline rules (broker/deadlines).
IntakeDecision decide_intake(const Envelope& envelope, const std::vector<NewLetter>& letters,
                             const IntakeFacts& facts, const IntakeContext& context, TimePoint now);
// The same, given the envelope's canonical encoding (encode_envelope(envelope), what an
// accepted message stores as its body), which the shell makes beside letters_of on its codec
// thread; an accept plan takes it as it is. Empty: encoded here.
IntakeDecision decide_intake(const Envelope& envelope, const std::vector<NewLetter>& letters,
                             const IntakeFacts& facts, const IntakeContext& context, TimePoint now,
                             std::string canonical_body);

}  // namespace sektorbro
