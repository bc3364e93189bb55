// The bridge between classic OIOXML Emessages and native envelopes, so that an endpoint on
// OIOXML and one on another dialect can talk through the broker (issue 4, per-endpoint
// dialect). Pure; any thread.
//
// What crosses: XDIS91 correspondence (ClinicalEmail ↔ native Correspondence) and receipts
// (XCTL03/02/01 ↔ native PositiveReceipt / NegativeReceipt application / network). Nothing else
// has a counterpart on the other side: MedCom letters other than XDIS91 are refused on the way
// in, and Sektorbro's own letters (certificate requests, certificates, discharge notices, mentor
// responses, reminders) on the way out, each with Errc::kUnsupportedType and a detail that says
// why. Details name element paths and codes, never values (CPR numbers travel here).
#pragma once

#include <string>
#include <string_view>

#include "adapters/oioxml/oioxml_codec.hpp"
#include "adapters/oioxml/oioxml_message.hpp"
#include "adapters/oioxml/oioxml_receipts.hpp"
#include "broker/core/result.hpp"
#include "broker/message/message.hpp"

namespace sektorbro::adapters {

// MedCom's codes for the correspondence letter ("korrespondancebrev").
inline constexpr std::string_view kXdis91TypeCode = "XDIS91";      // TypeCode, StatisticalCode
inline constexpr std::string_view kXdis91VersionCode = "XD9134L";  // VersionCode we write

// An OIOXML Emessage as a native envelope.
//
// XDIS91 (every letter a ClinicalEmail whose TypeCode is XDIS91 or absent) gives one native
// Correspondence per letter:
//   - Envelope: Identifier → id, Sent → sent, pluspositivkvitt → positive_receipt_requested.
//   - Letter/Identifier → id; StatusCode nytbrev/rettetbrev/annulleretbrev → status (absent =
//     nytbrev); Authorisation → authorised (absent = the envelope's Sent); TypeCode and
//     VersionCode → medcom_type_code ("XDIS91") and medcom_version_code.
//   - Sender/Receiver: EANIdentifier → gln; Identifier + IdentifierCode → identifier +
//     identifier_code when the code is one the native model knows (kommunenummer,
//     sygehusafdelingsnummer, lokationsnummer, ydernummer, amt, sorkode), else dropped;
//     OrganisationName (", " DepartmentName) → name.
//   - SOR: OIOXML carries a SOR code only as Identifier with IdentifierCode "sorkode"; then it
//     is the party's sor. Otherwise sor is left EMPTY: the native model requires it, so the
//     caller (the broker) fills it from its endpoint directory by GLN before routing, encoding
//     or storing the envelope. The native codec refuses a party without SOR.
//   - Patient/CivilRegistrationNumber → patient (required, DDMMYYSSSS shape);
//     AdditionalInformation Priority/Subject → priority/subject; ClinicalInformation Text01…
//     → text, with <br/> as '\n' and the Text elements joined by '\n'.
// XCTL03/02/01 (every letter a receipt) gives the native receipts of receipts_to_native, in an
// envelope that carries minuspositivkvitt whatever the partner wrote (receipts are never
// receipted). Their parties have the GLN only (SOR: as above), and a refusal of a whole
// envelope has no original_letter_ids, which the caller resolves (see receipts_to_native).
//
// The result passes validate_envelope at `received_at` (the broker's time of receipt).
// Errors: kUnsupportedType for any other letter (the detail names the element and its MedCom
// type code, e.g. "Emessage/letter[1]: OIOXML letter ReferralEmail (MedCom type XREF12) has no
// native counterpart; only XDIS91 correspondence and XCTL01/02/03 receipts cross"), kInvalid
// when receipts and other letters share an envelope or a value does not fit the native model
// (ids outside A-Z a-z 0-9 . _ -, a missing or malformed CPR, an empty Subject or text).
Result<Envelope> oioxml_to_native(const OioxmlEmessage& m, TimePoint received_at);

// A native envelope as an OIOXML Emessage (the value; native_to_oioxml writes it).
//
// Correspondence → XDIS91 ClinicalEmail in the 2006/07/01 namespace: Letter with Identifier,
// VersionCode (the letter's medcom_version_code, else XD9134L), StatisticalCode and TypeCode
// XDIS91, Authorisation, StatusCode; Sender/Receiver with EANIdentifier = GLN, Identifier +
// IdentifierCode (the party's own, else its SOR code as "sorkode"), OrganisationName = name;
// Patient; AdditionalInformation (Priority, Subject); ClinicalInformation/Text01 with '\n' as
// <br/>. The envelope keeps its id, Sent time and pluspositivkvitt/minuspositivkvitt.
//
// Receipts → MedCom receipts (namespace 2005/08/07, shaped as oioxml_receipts.hpp writes them),
// one receipt letter per native receipt letter: PositiveReceipt → XCTL03, NegativeReceipt
// application → XCTL02, network → XCTL01. Built from the native ReceiptReference and parties
// alone (receipt_from_native_reference), each OriginalLetter with `original_version_code`.
//
// Every other letter type: kUnsupportedType "Letter[n]: OIOXML has no MedCom standard for
// <Type>; the receiver cannot be sent this letter". kInvalid when receipts and other letters
// share the envelope, an id is longer than 14 characters, or a Correspondence has no patient
// or carries a MedCom type code other than XDIS91.
Result<OioxmlEmessage> native_to_oioxml_message(
    const Envelope& e, std::string_view original_version_code = kXdis91VersionCode);

// native_to_oioxml_message, then write_oioxml with `options` (ISO-8859-1 by default).
Result<std::string> native_to_oioxml(const Envelope& e, const OioxmlWriteOptions& options = {});

// The OIOXML receipt that says what the native receipt letter `receipt` says, for when the
// original OIOXML document is not at hand (with it, use receipt_from_native, which also copies
// each original letter's own VersionCode). OriginalSender = the receipt's receiver, and
// OriginalReceiver = the receipt's sender (a receipt goes back the way the letter came), by GLN;
// one OriginalLetter per original_letter_id, with OriginalVersionCode `original_version_code`
// (MedCom receipts name it; XD9134L fits the only letter an OIOXML sender gets through the
// native path). A NegativeReceipt without letter ids refuses the whole envelope (the refusal on
// OriginalEmessage, no OriginalLetter). kInvalid if `receipt` is not a receipt, or an id is
// not 1–14 characters.
Result<OioxmlEmessage> receipt_from_native_reference(
    const Letter& receipt, const OioxmlReceiptIds& ids,
    std::string_view original_version_code = kXdis91VersionCode);

}  // namespace sektorbro::adapters
