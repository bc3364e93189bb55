// The edge: Sektorbro's native model meets the dialects endpoints speak (issue 4). Inbound bytes
// in any dialect become a native Envelope; a native Envelope becomes bytes in the receiver's
// dialect; the broker's own answers (acceptance, refusal) are written in the sender's dialect.
// Pure conversion over the adapters; no I/O, any thread.
//
//   native  Sektorbro Emessage (urn:sektorbro:messaging:1)
//   oioxml  MedCom classic OIOXML Emessage: XDIS91 correspondence and XCTL01/02/03 receipts;
//           Sektorbro's own letter types have no MedCom standard and cannot be sent to it
//   sbdh    an EHMI StandardBusinessDocument carrying a native Emessage — or, inbound, a classic
//           OIOXML Emessage or a MedCom FHIR message (what EHMI carries) — with EHMI's
//           envelope-level ReceiptAcknowledgement / ReceiptException
//   fhir    MedCom FHIR R4 messages, XML or JSON in (JSON through adapters/fhir/fhir_json, and a
//           JSON sender is answered in JSON), XML out: CareCommunication ⇄ Correspondence,
//           HospitalNotification discharge events ⇄ DischargeNotice, Acknowledgement ⇄ receipts
//           (adapters/fhir). A FHIR document is recognised by Inbound::fhir; see
//           docs/medcom-conformance.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "adapters/fhir/fhir_acknowledgement.hpp"
#include "adapters/fhir/fhir_message.hpp"
#include "adapters/sbdh/sbdh_document.hpp"
#include "adapters/sbdh/sbdh_receipts.hpp"
#include "broker/core/result.hpp"
#include "broker/message/message.hpp"
#include "broker/routing/endpoint.hpp"

namespace sektorbro {

// Which dialect a document is in, from its root element and namespace alone.
Dialect sniff_dialect(std::string_view bytes);

// Whether the bytes are a MedCom FHIR message (a Bundle in the FHIR namespace), from the root
// element alone; sniff_dialect says kNative for them.
bool sniff_fhir(std::string_view bytes);

// What a refusal needs from a document even when it cannot be decoded (issue 9: refusals go to
// the original sender and name the original envelope and letters). Read leniently: whatever is
// there and well-formed enough, nothing validated; empty fields when unknown.
struct OriginalIds {
  std::string sender_gln;   // the sender's GLN (OIOXML EANIdentifier, SBDH 0088:, FHIR GLN)
  std::string sender_sor;   // when the document names it
  std::string envelope_id;  // Envelope/Identifier, SBDH InstanceIdentifier, Bundle.id (native)
  std::vector<std::string> letter_ids;  // Letter ids; FHIR: the native id of MessageHeader.id
  std::string fhir_header_id;           // FHIR: MessageHeader.id as sent (for the ack)
  bool operator==(const OriginalIds&) const = default;
};

struct Inbound {
  Dialect dialect = Dialect::kNative;
  bool fhir = false;       // a MedCom FHIR message (plain, not inside SBDH): the "fhir" dialect
  bool fhir_json = false;  // …sent as FHIR JSON: the broker's answer is JSON too
  // The message as the native model holds it; none for an envelope-level receipt (SBDH signal)
  // or a FHIR transient-error Acknowledgement. Letters from OIOXML carry no SOR code when the
  // sender gave none: the broker fills it from its endpoint directory before validating.
  std::optional<Envelope> envelope;
  std::optional<adapters::SbdhDocument> sbdh;  // the SBDH as received (for its receipt)
  std::optional<adapters::SbdhSignal> signal;  // ReceiptAcknowledgement / ReceiptException
  // The EHMI envelope (SBDH InstanceIdentifier) an SBDH signal answers: one the broker sent,
  // or the signal is refused (signal_reference below).
  std::string signal_original_envelope_id;
  std::optional<adapters::FhirMessage> fhir_message;      // as received (for its ack)
  std::optional<adapters::FhirAcknowledgement> fhir_ack;  // an Acknowledgement received
  bool fhir_transient = false;  // a transient-error Acknowledgement: keep resending, no receipt
  OriginalIds original;         // always filled as far as the document allows
};

// Reads OriginalIds and the dialect from any bytes; never fails (all empty for garbage). From a
// document that does not parse (cut off, an undeclared entity, bytes invalid in its encoding),
// only identifiers in the part that is well-formed up to the first fault
// (broker/edge/well_formed_prefix.hpp), for every dialect.
Inbound read_leniently(std::string_view bytes);

// Decodes a document in whatever dialect it is in. Errors as the dialect's parser gives them
// (kMalformed, kInvalid), or kUnsupportedType for a payload the broker cannot carry (an OIOXML
// letter type other than XDIS91 and receipts, a FHIR event without a native letter), or
// kUnknownReceiver / kUnknownSender for an OIOXML EANIdentifier that is not a GLN. On error,
// read_leniently(bytes) gives what the refusal needs.
Result<Inbound> decode_inbound(std::string_view bytes, TimePoint now);

// The SBDH InstanceIdentifiers an SBDH signal may name as the envelope it answers, most
// specific first: the ORIGINALENVELOPEIDENTIFIER scope, the receipt scope's
// RequestingDocumentInstanceIdentifier, the ebBP OriginalMessageIdentifier (EHMI's samples fill
// them differently). Empty ones left out; none for a document that is not a signal.
std::vector<std::string> signal_envelope_candidates(const Inbound& inbound);

// For an SBDH signal: the envelope it answers must be one the broker sent. `sent` says whether
// the broker sent the SBDH envelope with that InstanceIdentifier (the caller looks it up).
// kUnknownReference naming the id when not.
Result<void> check_signal_reference(const Inbound& inbound, bool sent);

// Whether `letter` can be written for a receiver speaking `dialect`, with the reason why not
// (kUnsupportedType): beyond the letter type, what the receiver's standard requires (OIOXML
// XDIS91 needs the patient's surname and episode-of-care status).
Result<void> can_carry(const Letter& letter, Dialect dialect, bool fhir);

// Whether a letter of type `type` can be written in `dialect`.
bool expressible(LetterType type, Dialect dialect);

// The native `envelope` as bytes in `dialect`. `instance_id` names the SBDH envelope (new for
// every send). kUnsupportedType with a reason for what the dialect cannot express.
Result<std::string> encode_outbound(const Envelope& envelope, Dialect dialect, TimePoint now,
                                    const std::string& instance_id);

// The native `envelope` as a delivery to `receiver`: in its dialect, and for an SBDH receiver
// around the payload its config names (Endpoint::sbdh_payload). `instance_id` names the SBDH
// envelope; `original_fhir_message_id` is passed to encode_outbound_fhir for a FHIR receiver or
// a FHIR payload (a receipt for a letter that arrived as FHIR names that letter's own
// MessageHeader.id). A FHIR receiver with Endpoint::fhir_json gets the FHIR JSON form.
// `fhir_header_id`, when given, is set to the MessageHeader.id of the FHIR message written (a
// FHIR receiver or a FHIR payload; left alone for an Acknowledgement, which is never
// acknowledged, and for other dialects).
Result<std::string> encode_for_receiver(const Envelope& envelope, const Endpoint& receiver,
                                        TimePoint now, const std::string& instance_id,
                                        std::string_view original_fhir_message_id = {},
                                        std::string* fhir_header_id = nullptr);

// Issue 9: the key (Store::record_sent_envelope / find_sent_envelope) under which the broker
// records the FHIR message it delivered to `receiver_gln` with MessageHeader.id `header_id`, so
// that the receiver's Acknowledgement — which names that id — is the receipt of exactly that
// stored message. Needed because a revise-/cancel- HospitalNotification is its own FHIR message
// (own MessageHeader.id) but the same native letter as the one it revises.
std::string sent_fhir_message_key(std::string_view receiver_gln, std::string_view header_id);

// The Content-Type a delivery to `receiver` is sent with: application/fhir+xml for FHIR
// (application/fhir+json for an endpoint with "fhir_format": "json"), the
// native one (UTF-8) for native, application/xml for OIOXML and SBDH (their declaration names
// the encoding).
std::string_view delivery_content_type(const Endpoint& receiver);

// The Content-Type of an answer the broker wrote (acceptance, refusal): application/fhir+json
// for JSON, application/fhir+xml for a FHIR Bundle, else application/xml; charset=utf-8 as
// before (an OIOXML answer declares its own encoding).
std::string_view answer_content_type(std::string_view body);

// The ebBP ReceiptException type (adapters/sbdh) for a refusal of an SBDH envelope, by the
// fault (domain.md §4; medcomdk/dk-ehmi-sbdh ehmiSBDHEnvelopeReceipt.md): Syntax for what is not
// well-formed, too large or breaks the schema; Authorization for a sender that is not its
// endpoint, an unknown receiver or one whose identifiers disagree; Sequence for a type the
// receiver does not take, a reference to an unknown letter or envelope and a reused letter
// id. Empty for faults on the broker's side (kStorage, kStale): no ReceiptException, which
// would end the exchange — the HTTP 503 alone tells the sender's handler to send again.
std::string_view receipt_exception_type_for(Errc fault);

// The native `envelope` in an SBDH around a `payload` of that kind: parties as 0088:GLN,
// SENDERID/RECEIVERID the SOR codes, PATIENTID, the EHMI-ReceiptAcknowledgement request, and
// DocumentIdentification, DOCUMENTID, MESSAGEIDENTIFIER, MESSAGEENVELOPEIDENTIFIER and
// StatisticalInformation for the payload: for FHIR the event code (Standard), Bundle (Type),
// the MessageHeader.id and Bundle.id; for OIOXML the MedCom type code (XDIS91, XCTL03, …),
// Emessage, the letter and envelope ids. kUnsupportedType for what the payload cannot express.
Result<std::string> encode_outbound_sbdh(const Envelope& envelope, SbdhPayload payload,
                                         TimePoint now, const std::string& instance_id,
                                         std::string_view original_fhir_message_id = {},
                                         std::string* fhir_header_id = nullptr);

// The native `envelope` as a MedCom FHIR message: Correspondence as CareCommunication,
// DischargeNotice as a HospitalNotification discharge event, receipts as Acknowledgements
// (ok / fatal-error). A receipt's response.identifier is `original_fhir_message_id` — the
// original letter's Letter::fhir_message_id, which the caller looks up — or, when that is empty
// (the original was not a FHIR message), the UUID the broker gave the original.
// kUnsupportedType for other letters.
Result<std::string> encode_outbound_fhir(const Envelope& envelope, TimePoint now,
                                         std::string_view original_fhir_message_id = {},
                                         std::string* fhir_header_id = nullptr);

// The broker's answer to an accepted document: the native Acceptance for native and OIOXML
// senders; for SBDH senders the envelope-level ReceiptAcknowledgement (EHMI) — the business
// receipt comes later from the receiver. For FHIR senders (MedCom: a FHIR message is answered
// by a FHIR Acknowledgement, never by anything else) a positive Acknowledgement (`ok`) from
// `broker` (the broker's identity, as on its refusals) to the message's sender, naming its own
// MessageHeader.id, stamped with the acceptance's time (a resend gets the same answer), its ids
// from `instance_id`; JSON for a JSON sender. An accepted FHIR Acknowledgement gets an empty
// answer (MedCom never acknowledges an Acknowledgement).
std::string accepted_answer(const Inbound& inbound, const std::string& native_acceptance,
                            TimePoint now, const std::string& instance_id,
                            const Party& broker = {});

// The broker's refusal in the sender's dialect: the native NegativeReceipt (network level)
// written as an XCTL01 for OIOXML senders, as an SBDH ReceiptException for SBDH senders whose
// envelope could be read (its type from `fault`, receipt_exception_type_for; none, and an empty
// answer, for a fault on the broker's side), as a Sequence ReceiptException pointing at the
// signal for an SBDH envelope receipt the broker refuses, as a FHIR Acknowledgement with
// fatal-error (response.identifier = the sender's MessageHeader.id; JSON for a JSON sender) for
// FHIR senders, and as itself otherwise. Pass the Inbound from decode_inbound, or from
// read_leniently when decoding failed.
std::string refused_answer(Dialect dialect, const Inbound* inbound, const Envelope& native_refusal,
                           TimePoint now, const std::string& instance_id,
                           Errc fault = Errc::kInvalid);

}  // namespace sektorbro
