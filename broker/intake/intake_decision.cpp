#include "broker/intake/intake_decision.hpp"

#include <algorithm>
#include <set>

#include "broker/codec/codec.hpp"
#include "broker/codec/validation.hpp"
#include "broker/core/identifiers.hpp"
#include "broker/edge/edge_codec.hpp"

namespace sektorbro {
namespace {

std::string answered_text(const Deadline& d) {
  std::string text = d.state == DeadlineState::kDeclined ? "declined" : "answered";
  if (d.answered_at && *d.answered_at > d.due_end) {
    text += " " + std::to_string(d.days_late) + " day(s) late";
  } else {
    text += " on time";
  }
  return text + " (due " + format_date(d.due) + ")";
}

const ReceiptReference& receipt_reference(const Letter& letter) {
  return letter.type() == LetterType::kPositiveReceipt
             ? std::get<PositiveReceipt>(letter.body).original
             : std::get<NegativeReceipt>(letter.body).original;
}

// The letter a reply or receipt refers to must have been sent by this envelope's receiver to its
// sender (and be of the expected type, when one is expected).
Result<LetterLocation> referenced_letter(const IntakeFacts& facts, const Envelope& envelope,
                                         std::size_t index, const std::string& id,
                                         std::optional<LetterType> want) {
  const std::string where = "Letter[" + std::to_string(index + 1) + "]";
  const std::string& sender = envelope.sender().gln;
  const std::string& receiver = envelope.receiver().gln;
  const auto found = facts.referenced.find(LetterKey{receiver, id});
  if (found == facts.referenced.end() || found->second.receiver_gln != sender) {
    return make_error(Errc::kUnknownReference, where + ": refers to letter " + id + " which " +
                                                   receiver + " did not send to " + sender);
  }
  if (want && found->second.type != *want) {
    return make_error(Errc::kUnknownReference, where + ": letter " + id + " is a " +
                                                   std::string(to_string(found->second.type)) +
                                                   ", expected a " + std::string(to_string(*want)));
  }
  return found->second;
}

std::optional<Deadline> find(const IntakeFacts& facts, const DeadlineKey& key) {
  const auto it = facts.deadlines.find(key);
  if (it == facts.deadlines.end()) return std::nullopt;
  return it->second;
}

}  // namespace

bool kind_sends(EndpointKind kind, LetterType type) {
  switch (type) {
    case LetterType::kPositiveReceipt:
    case LetterType::kNegativeReceipt:
    case LetterType::kCorrespondence:
      return true;
    case LetterType::kCertificateRequest:
    case LetterType::kMentorResponse:
      return kind == EndpointKind::kJobcenter;
    case LetterType::kCertificate:
    case LetterType::kDischargeNotice:
    case LetterType::kHospitalStayNotice:  // MedCom HospitalNotification (issue 9)
      return kind == EndpointKind::kPsychiatry;
    case LetterType::kReminder:
      return false;  // the broker's own
  }
  return false;
}

std::string opened_deadline_text(const Deadline& d) {
  std::string text =
      std::string(d.kind == DeadlineKind::kCertificate ? "Certificate" : "MentorResponse") +
      " owed by " + d.owed_by + ", due " + format_date(d.due) + " (end of day, Copenhagen)";
  if (d.lead_time_days) {
    text += "; notice lead time " + std::to_string(*d.lead_time_days) + " day(s)";
    if (d.notice_late) text += ": the notice arrived after the discharge date";
  }
  return text;
}

FactsNeeded facts_needed(const Envelope& envelope) {
  FactsNeeded out;
  if (envelope.letters.empty()) return out;
  const std::string& receiver = envelope.receiver().gln;
  for (const Letter& letter : envelope.letters) {
    if (const auto* c = std::get_if<Certificate>(&letter.body)) {
      out.referenced.push_back({receiver, c->request_letter_id});
    } else if (const auto* m = std::get_if<MentorResponse>(&letter.body)) {
      out.referenced.push_back({receiver, m->notice_letter_id});
    } else if (is_receipt(letter.type())) {
      const ReceiptReference& ref = receipt_reference(letter);
      for (const auto& id : ref.original_letter_ids) {
        out.referenced.push_back({receiver, id});
        if (names_an_envelope(ref.original_envelope_id))
          out.receipt_envelopes.push_back({{receiver, id}, ref.original_envelope_id});
      }
    }
    switch (letter.type()) {
      case LetterType::kDischargeNotice:
      case LetterType::kCertificateRequest:
        if (letter.status != LetterStatus::kNew) out.deadlines.push_back(deadline_key(letter));
        break;
      case LetterType::kCertificate:
      case LetterType::kMentorResponse:
        if (auto key = reply_key(letter)) out.deadlines.push_back(*key);
        break;
      default:
        break;
    }
  }
  return out;
}

std::vector<NewLetter> letters_of(const Envelope& envelope) {
  std::vector<NewLetter> out;
  out.reserve(envelope.letters.size());
  for (const Letter& letter : envelope.letters)
    out.push_back({letter.id, letter.type(), sha256_hex(encode_letter(letter)), letter.status});
  return out;
}

void complete_parties(Envelope& envelope, const Directory& directory, const Party& broker) {
  for (auto& letter : envelope.letters) {
    for (Party* party : {&letter.sender, &letter.receiver}) {
      if (!party->sor.empty()) continue;
      if (const Endpoint* e = directory.by_gln(party->gln)) party->sor = e->party.sor;
      if (party->gln == broker.gln) party->sor = broker.sor;
    }
  }
}

IntakeDecision decide_intake(const Envelope& envelope, const std::vector<NewLetter>& letters,
                             const IntakeFacts& facts, const IntakeContext& context,
                             TimePoint now) {
  return decide_intake(envelope, letters, facts, context, now, std::string{});
}

IntakeDecision decide_intake(const Envelope& envelope, const std::vector<NewLetter>& letters,
                             const IntakeFacts& facts, const IntakeContext& context, TimePoint now,
                             std::string canonical_body) {
  auto refuse = [](Errc code, std::string detail) -> IntakeDecision {
    return IntakeRefusal{Error{code, std::move(detail)}};
  };
  if (auto valid = validate_envelope(envelope, now); !valid) return IntakeRefusal{valid.error()};
  auto route = route_envelope(envelope, context.directory);
  if (!route) return IntakeRefusal{route.error()};
  // A spoofed sender: the certificate says one endpoint, the letters name another (issue 5).
  if (!context.authenticated.empty() && route->sender->id != context.authenticated) {
    return refuse(Errc::kUnknownSender, "the sender GLN " + envelope.sender().gln +
                                            " is not the authenticated endpoint " +
                                            context.authenticated);
  }
  // Issue 12 item 1: the sender is its endpoint in every identifier — a letter with the
  // endpoint's GLN but another SOR is refused — and sends only the letter types its kind sends.
  for (const auto& letter : envelope.letters) {
    if (letter.sender.gln != route->sender->party.gln ||
        letter.sender.sor != route->sender->party.sor) {
      return refuse(Errc::kUnknownSender, "letter " + letter.id + ": sender GLN " +
                                              letter.sender.gln + " SOR " + letter.sender.sor +
                                              " is not endpoint " + route->sender->id + " (SOR " +
                                              route->sender->party.sor + ")");
    }
    if (!kind_sends(route->sender->kind, letter.type())) {
      return refuse(Errc::kUnknownSender, "letter " + letter.id + ": a " +
                                              std::string(to_string(route->sender->kind)) +
                                              " endpoint does not send " +
                                              std::string(to_string(letter.type())) + " letters");
    }
  }
  const Dialect arrived = context.fhir ? Dialect::kFhir : context.dialect;
  if (route->sender->dialect != arrived) {
    return refuse(Errc::kInvalid, "endpoint " + route->sender->id + " speaks " +
                                      std::string(to_string(route->sender->dialect)) +
                                      ", this document is " + std::string(to_string(arrived)));
  }
  // What the receiver's dialect cannot carry is refused here, never dropped later (issue 4),
  // with problem_med_version (kUnsupportedType): beyond the type, what the receiver's standard
  // needs (issue 9: XDIS91 needs the patient's surname; FHIR carries no Sektorbro-only types).
  const Dialect to = route->receiver->dialect;
  // An SBDH receiver that wants an OIOXML or FHIR payload (sbdh_payload) takes what that
  // format can carry.
  Dialect carrier = to;
  std::string speaks(to_string(to));
  if (to == Dialect::kSbdh && route->receiver->sbdh_payload != SbdhPayload::kNative) {
    carrier =
        route->receiver->sbdh_payload == SbdhPayload::kOioxml ? Dialect::kOioxml : Dialect::kFhir;
    speaks += " with " + std::string(to_string(route->receiver->sbdh_payload)) + " payloads";
  }
  for (const auto& letter : envelope.letters) {
    if (auto carried = can_carry(letter, carrier, carrier == Dialect::kFhir); !carried) {
      return refuse(Errc::kUnsupportedType, "receiver " + route->receiver->id + " speaks " +
                                                speaks + ": " + carried.error().detail);
    }
  }
  // Letter ids unique within the envelope; the first letter whose id came before is named. An
  // envelope holds a few letters: compared pairwise, without a set allocated per message.
  constexpr std::size_t kPairwiseLetters = 32;
  if (envelope.letters.size() <= kPairwiseLetters) {
    for (std::size_t i = 1; i < envelope.letters.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (envelope.letters[j].id == envelope.letters[i].id)
          return refuse(Errc::kInvalid,
                        "letter id " + envelope.letters[i].id + " appears twice in the envelope");
  } else {
    std::set<std::string_view> ids;
    for (const auto& letter : envelope.letters)
      if (!ids.insert(letter.id).second)
        return refuse(Errc::kInvalid, "letter id " + letter.id + " appears twice in the envelope");
  }

  // MedCom reliable messaging: duplicates, new versions, conflicts.
  const DuplicateVerdict verdict = apply_duplicate_rule(letters, facts.own);
  switch (verdict.kind) {
    case DuplicateVerdict::Kind::kDuplicate:
      return IntakeDuplicate{verdict.original_message_id,
                             MessageEvent{verdict.original_message_id, now, "duplicate",
                                          "resent in envelope " + envelope.id, route->sender->id}};
    case DuplicateVerdict::Kind::kConflict:
      return refuse(Errc::kDuplicateConflict,
                    "letter id " + verdict.conflicting_letter_id +
                        " was already used by this sender for different content");
    case DuplicateVerdict::Kind::kMixed:
      return refuse(Errc::kDuplicateConflict,
                    "the envelope mixes letters already received with new ones; resend the "
                    "original envelope's letters unchanged, new letters in an envelope of their "
                    "own");
    case DuplicateVerdict::Kind::kNew:
      break;
  }

  IntakeAccept accept;
  MessagePlan& plan = accept.plan;
  const std::string& sender_endpoint = route->sender->id;
  NewMessage& message = plan.message;
  message.envelope_id = envelope.id;
  message.sender_gln = envelope.sender().gln;
  message.receiver_gln = envelope.receiver().gln;
  message.sender_endpoint = sender_endpoint;
  message.receiver_endpoint = route->receiver->id;
  message.receipt_requested = envelope.positive_receipt_requested;
  message.received_at = now;
  message.letters = letters;
  Acceptance acceptance{envelope.id, envelope.sender().gln, {}, now};
  for (const auto& letter : envelope.letters) {
    message.contains_cpr = message.contains_cpr || letter.patient.has_value();
    acceptance.letter_ids.push_back(letter.id);
  }
  message.body = canonical_body.empty() ? encode_envelope(envelope) : std::move(canonical_body);
  message.acceptance = encode_acceptance(acceptance);
  plan.supersedes = verdict.supersedes;
  plan.events.push_back(MessageEvent{0, now, "received",
                                     "envelope " + envelope.id + " from " + sender_endpoint + ", " +
                                         std::to_string(letters.size()) + " letter(s) for " +
                                         route->receiver->id,
                                     sender_endpoint});
  {
    std::vector<std::int64_t> told;
    for (const Supersession& s : plan.supersedes) {
      if (std::find(told.begin(), told.end(), s.old_message_id) != told.end()) continue;
      told.push_back(s.old_message_id);
      std::string how;
      for (const Supersession& t : plan.supersedes) {
        if (t.old_message_id != s.old_message_id) continue;
        for (std::size_t i = 0; i < letters.size(); ++i) {
          if (letters[i].letter_id != t.letter_id) continue;
          const std::string status(to_string(letters[i].status));
          if (how.find(status) == std::string::npos) how += (how.empty() ? "" : ", ") + status;
        }
      }
      plan.events.push_back(MessageEvent{s.old_message_id, now, "superseded",
                                         "by envelope " + envelope.id + ", " + how,
                                         sender_endpoint});
    }
  }

  // References: replies answer letters sent to their sender; receipts name such letters.
  for (std::size_t i = 0; i < envelope.letters.size(); ++i) {
    const Letter& letter = envelope.letters[i];
    if (const auto* c = std::get_if<Certificate>(&letter.body)) {
      auto r = referenced_letter(facts, envelope, i, c->request_letter_id,
                                 LetterType::kCertificateRequest);
      if (!r) return IntakeRefusal{r.error()};
    } else if (const auto* m = std::get_if<MentorResponse>(&letter.body)) {
      auto r =
          referenced_letter(facts, envelope, i, m->notice_letter_id, LetterType::kDischargeNotice);
      if (!r) return IntakeRefusal{r.error()};
    } else if (is_receipt(letter.type())) {
      const bool positive = letter.type() == LetterType::kPositiveReceipt;
      const ReceiptReference& ref = receipt_reference(letter);
      if (ref.original_letter_ids.empty()) {
        return refuse(Errc::kUnknownReference, "Letter[" + std::to_string(i + 1) +
                                                   "]: a receipt must name the letters it "
                                                   "answers");
      }
      for (const auto& id : ref.original_letter_ids) {
        auto r = referenced_letter(facts, envelope, i, id, std::nullopt);
        if (!r) return IntakeRefusal{r.error()};
        // The version the receipt's envelope id names (a resend's, an older version's), not
        // the letter's latest; an envelope that never carried the letter to this receipt's
        // writer makes the reference unknown (MedCom: OriginalEnvelopeIdentifier).
        if (const auto a = facts.answered.find(LetterKey{envelope.receiver().gln, id});
            a != facts.answered.end()) {
          if (a->second.match == ReceiptMatch::kNeverSent) {
            return refuse(Errc::kUnknownReference,
                          "Letter[" + std::to_string(i + 1) + "]: names letter " + id +
                              " in envelope " + ref.original_envelope_id + ", in which " +
                              envelope.receiver().gln + " never sent it to " +
                              envelope.sender().gln);
          }
          if (a->second.match == ReceiptMatch::kAnswers) r->message_id = a->second.message_id;
        }
        const bool seen =
            std::any_of(plan.receipts.begin(), plan.receipts.end(),
                        [&](const ReceiptUpdate& u) { return u.message_id == r->message_id; });
        if (seen) continue;
        std::string detail = std::string(positive ? "positive" : "negative") + " receipt " +
                             letter.id + " from " + sender_endpoint;
        if (!positive)
          detail +=
              " (" + std::string(to_string(std::get<NegativeReceipt>(letter.body).code)) + ")";
        plan.receipts.push_back(
            {r->message_id, positive ? ReceiptState::kPositive : ReceiptState::kNegative,
             MessageEvent{r->message_id, now, "receipt", detail, sender_endpoint}});
      }
    }
  }

  // Deadlines (domain.md §5–7): a discharge notice opens the jobcenter's, a reply answers one, a
  // correction or cancellation changes one. A request's clock starts at its delivery (the
  // dispatcher), not here.
  const DeadlineParties parties{route->receiver->id, sender_endpoint};
  // The timeline a change belongs on: the request's or notice's message.
  auto own_message = [&](std::size_t i) -> std::int64_t {
    const auto& latest = facts.own.at(i).latest;
    return latest ? latest->message_id : 0;
  };
  for (std::size_t i = 0; i < envelope.letters.size(); ++i) {
    const Letter& letter = envelope.letters[i];
    switch (letter.type()) {
      case LetterType::kDischargeNotice: {
        if (letter.status == LetterStatus::kNew) {
          auto opened =
              open_mentor_deadline(letter, now, parties, context.policy, context.calendar);
          if (!opened) return IntakeRefusal{opened.error()};
          plan.deadlines.push_back(
              {*opened, 0, MessageEvent{0, now, "deadline-opened", opened_deadline_text(*opened)}});
          if (opened->notice_late)
            accept.alerts.push_back("ALERT late discharge notice: letter " + letter.id + " to " +
                                    opened->owed_by + " arrived after the discharge date");
          break;
        }
        auto existing = find(facts, deadline_key(letter));
        if (!existing) break;
        const bool cancelling = letter.status == LetterStatus::kCancelled;
        auto changed = cancelling
                           ? cancel(*existing, now)
                           : correct(*existing, letter, now, context.policy, context.calendar);
        // A closed deadline stays as it was: the notice still travels, the figures do not move.
        if (changed) {
          const std::int64_t on = own_message(i);
          plan.deadlines.push_back(
              {*changed, on,
               MessageEvent{on, now, cancelling ? "deadline-cancelled" : "deadline-corrected",
                            opened_deadline_text(*changed)}});
        }
        break;
      }
      case LetterType::kCertificateRequest: {
        // A cancellation stops the clock as soon as the jobcenter sends it.
        if (letter.status != LetterStatus::kCancelled) break;
        auto existing = find(facts, deadline_key(letter));
        if (!existing) break;
        if (auto cancelled = cancel(*existing, now)) {
          const std::int64_t on = own_message(i);
          plan.deadlines.push_back(
              {*cancelled, on,
               MessageEvent{on, now, "deadline-cancelled",
                            "the request was cancelled by " + sender_endpoint}});
        }
        break;
      }
      case LetterType::kCertificate:
      case LetterType::kMentorResponse: {
        auto key = reply_key(letter);
        if (!key) return IntakeRefusal{key.error()};
        auto existing = find(facts, *key);
        if (!existing) break;  // no clock runs (LÆ165, or the request is not delivered yet)
        // A second reply to the same request is refused: "already answered at …" (kConflict).
        auto answered = answer(*existing, letter, now);
        if (!answered) return IntakeRefusal{answered.error()};
        const auto request = facts.referenced.find(LetterKey{key->requester_gln, key->letter_id});
        const std::int64_t on = request == facts.referenced.end() ? 0 : request->second.message_id;
        DeadlineWrite write{*answered, on,
                            MessageEvent{on, now, "deadline-answered",
                                         "letter " + letter.id + " " + answered_text(*answered)}};
        // Two replies racing: the store writes this only while the deadline is still open.
        write.expect_open = true;
        plan.deadlines.push_back(std::move(write));
        break;
      }
      default:
        break;
    }
  }
  return accept;
}

}  // namespace sektorbro
