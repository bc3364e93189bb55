// Bytes ↔ OioxmlEmessage for MedCom's classic OIOXML (domain.md §2–3). Pure; any thread.
#pragma once

#include <string>
#include <string_view>

#include "adapters/oioxml/oioxml_message.hpp"
#include "broker/core/result.hpp"

namespace sektorbro::adapters {

// Parses an Emessage in any dated MedCom namespace (kOioxmlNamespacePrefix + "YYYY/MM/DD/"),
// with one or more letters, in UTF-8, ISO-8859-1 or windows-1252 (decode_document, including
// its mislabelled-UTF-8 rule). Reads the envelope, each letter's Letter/Sender/Receiver/
// Patient, XDIS91's AdditionalInformation and ClinicalInformation, and receipts'
// OriginalEmessage; other elements are skipped (they stay in original_bytes). Checks: the
// namespace, required elements (Envelope/Sent/Date+Time, Envelope/Identifier,
// AcknowledgementCode, Letter/Identifier, Sender and Receiver EANIdentifier, a receipt's
// OriginalEmessage/OriginalEnvelopeIdentifier and each OriginalLetterIdentifier), value shapes
// (dates, HH:MM times, ids of 1–14 characters, 13-digit EANs, known AcknowledgementCode).
// Errors: kMalformed (bytes, encoding, XML, DOCTYPE/ENTITY, nesting) or kInvalid, with a detail
// naming the element path, e.g. "Emessage/ClinicalEmail[1]/Sender/EANIdentifier: expected 13
// digits"; details never echo values.
Result<OioxmlDocument> parse_oioxml(std::string_view bytes);

struct OioxmlWriteOptions {
  // ISO-8859-1 is what classic MedCom receivers expect; characters outside it are written as
  // character references. UTF-8 on request.
  TextEncoding encoding = TextEncoding::kIso88591;
  bool indent = false;  // MedCom's own receipts are one line
};

// Writes the modelled fields in MedCom's element order, omitting empty optional ones. The
// inverse of parse_oioxml for everything the model holds: parse(write(m)).message == m. A
// letter read from a partner carries more than the model (addresses, attachments): forward its
// original_bytes rather than rewriting it.
std::string write_oioxml(const OioxmlEmessage& message, const OioxmlWriteOptions& options = {});

// OIOXML times are Danish local time with minute resolution (domain.md §2).
std::string format_oioxml_date(TimePoint t);  // "2023-11-20", Copenhagen date
std::string format_oioxml_time(TimePoint t);  // "17:45", Copenhagen time
// Local date + "HH:MM" to the instant; nullopt if either is malformed. In the autumn hour that
// occurs twice, the earlier (summer-time) instant.
std::optional<TimePoint> parse_oioxml_date_time(std::string_view date, std::string_view time);

}  // namespace sektorbro::adapters
