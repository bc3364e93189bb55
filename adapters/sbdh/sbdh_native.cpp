#include "adapters/sbdh/sbdh_native.hpp"

#include "broker/codec/codec.hpp"

namespace sektorbro::adapters {
namespace {

Error invalid(std::string detail) { return make_error(Errc::kInvalid, std::move(detail)); }

}  // namespace

Result<SbdhDocument> wrap_native_envelope(const Envelope& envelope,
                                          const SbdhWrapOptions& options) {
  if (envelope.letters.size() != 1)
    return invalid("envelope: EHMI carries exactly one letter per envelope");
  if (options.instance_id.empty()) return invalid("SBDH instance id: empty");
  const Letter& letter = envelope.letters.front();
  SbdhDocument d;
  d.sender_gln = letter.sender.gln;
  d.receiver_gln = letter.receiver.gln;
  d.standard = std::string(kNativeSbdhStandard);
  d.type_version = "1";
  d.instance_id = options.instance_id;
  d.type = std::string(kNativeSbdhType);
  d.created = options.created;
  d.document_id = std::string(kNativeSbdhDocumentId);
  d.process_id = options.process_id;
  if (letter.patient) d.patient_id = letter.patient->cpr;
  d.sender_sor = letter.sender.sor;
  d.receiver_sor = letter.receiver.sor;
  d.message_id = letter.id;
  d.message_envelope_id = envelope.id;
  d.statistical_information = "SEKTORBRO:" + std::string(to_string(letter.type()));
  if (envelope.positive_receipt_requested) {
    d.receipt.kind = SbdhAckScope::kRequest;
    d.receipt.requesting_document_created = options.created;
    d.receipt.requesting_document_id = options.instance_id;
    d.receipt.expected_response = options.created + options.time_to_acknowledge;
    d.receipt.time_to_acknowledge = options.time_to_acknowledge;
  }
  d.mime_type = "application/xml";
  d.payload = encode_envelope(envelope);
  return d;
}

Result<Envelope> unwrap_native_envelope(const SbdhDocument& d) {
  if (d.standard != kNativeSbdhStandard || d.mime_type != "application/xml")
    return make_error(Errc::kUnsupportedType, "SBDH payload is not a native Sektorbro Emessage");
  auto envelope = decode_envelope(d.payload);
  if (!envelope) return envelope.error();
  const Envelope& e = *envelope;
  if (e.letters.empty()) return invalid("payload: no letter");
  if (e.sender().gln != d.sender_gln)
    return invalid("payload: sender GLN differs from the SBDH Sender");
  if (e.receiver().gln != d.receiver_gln)
    return invalid("payload: receiver GLN differs from the SBDH Receiver");
  if (!d.message_envelope_id.empty() && e.id != d.message_envelope_id)
    return invalid("payload: envelope id differs from MESSAGEENVELOPEIDENTIFIER");
  if (!d.message_id.empty() && (e.letters.size() != 1 || e.letters.front().id != d.message_id))
    return invalid("payload: letter id differs from MESSAGEIDENTIFIER");
  return envelope;
}

}  // namespace sektorbro::adapters
