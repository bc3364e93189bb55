#include "broker/edge/edge_codec.hpp"

#include "adapters/oioxml/oioxml_codec.hpp"
#include "adapters/oioxml/oioxml_native.hpp"
#include "adapters/sbdh/sbdh_native.hpp"
#include "broker/codec/codec.hpp"

namespace sektorbro {
namespace {

constexpr std::string_view kOioxmlNamespace = "rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/";

// The root element's start tag: the first '<' that opens neither a declaration, a comment nor
// a processing instruction. Empty if there is none in the first 64 KiB.
std::string_view root_start_tag(std::string_view bytes) {
  std::size_t pos = 0;
  const std::size_t limit = std::min<std::size_t>(bytes.size(), 64 * 1024);
  while (pos < limit) {
    pos = bytes.find('<', pos);
    if (pos == std::string_view::npos || pos + 1 >= limit) return {};
    if (bytes.compare(pos, 4, "<!--") == 0) {
      pos = bytes.find("-->", pos);
      if (pos == std::string_view::npos) return {};
      continue;
    }
    if (bytes[pos + 1] == '?' || bytes[pos + 1] == '!') {
      ++pos;
      continue;
    }
    const std::size_t end = bytes.find('>', pos);
    if (end == std::string_view::npos) return {};
    return bytes.substr(pos, end - pos + 1);
  }
  return {};
}

}  // namespace

Dialect sniff_dialect(std::string_view bytes) {
  const std::string_view tag = root_start_tag(bytes);
  if (tag.find("StandardBusinessDocument") != std::string_view::npos &&
      tag.find("StandardBusinessDocument") < tag.find_first_of(" \t\r\n/>"))
    return Dialect::kSbdh;
  if (tag.find("Emessage") != std::string_view::npos &&
      tag.find(kOioxmlNamespace) != std::string_view::npos)
    return Dialect::kOioxml;
  return Dialect::kNative;
}

Result<Inbound> decode_inbound(std::string_view bytes, TimePoint now) {
  Inbound in;
  in.dialect = sniff_dialect(bytes);
  switch (in.dialect) {
    case Dialect::kNative: {
      auto envelope = decode_envelope(bytes);
      if (!envelope) return envelope.error();
      in.envelope = std::move(*envelope);
      return in;
    }
    case Dialect::kOioxml: {
      auto document = adapters::parse_oioxml(bytes);
      if (!document) return document.error();
      auto envelope = adapters::oioxml_to_native(document->message, now);
      if (!envelope) return envelope.error();
      in.envelope = std::move(*envelope);
      return in;
    }
    case Dialect::kSbdh: {
      auto document = adapters::parse_sbdh(bytes);
      if (!document) return document.error();
      if (adapters::is_envelope_receipt(*document)) {
        auto signal = adapters::read_signal(*document);
        if (!signal) return signal.error();
        in.signal = std::move(*signal);
      } else {
        auto envelope = adapters::unwrap_native_envelope(*document);
        if (!envelope) return envelope.error();
        in.envelope = std::move(*envelope);
      }
      in.sbdh = std::move(*document);
      return in;
    }
  }
  return make_error(Errc::kMalformed, "unknown dialect");
}

bool expressible(LetterType type, Dialect dialect) {
  switch (dialect) {
    case Dialect::kNative:
      return true;
    case Dialect::kSbdh:
      return true;  // the native Emessage travels inside the SBDH unchanged
    case Dialect::kOioxml:
      // MedCom has classic standards for correspondence and receipts only (domain.md §1).
      return type == LetterType::kCorrespondence || is_receipt(type);
  }
  return false;
}

Result<std::string> encode_outbound(const Envelope& envelope, Dialect dialect, TimePoint now,
                                    const std::string& instance_id) {
  switch (dialect) {
    case Dialect::kNative:
      return encode_envelope(envelope);
    case Dialect::kOioxml:
      for (const auto& letter : envelope.letters) {
        if (!expressible(letter.type(), dialect)) {
          return make_error(Errc::kUnsupportedType, "OIOXML has no MedCom standard for " +
                                                        std::string(to_string(letter.type())));
        }
      }
      return adapters::native_to_oioxml(envelope, adapters::OioxmlWriteOptions{});
    case Dialect::kSbdh: {
      adapters::SbdhWrapOptions options;
      options.instance_id = instance_id;
      options.created = now;
      auto document = adapters::wrap_native_envelope(envelope, options);
      if (!document) return document.error();
      return adapters::write_sbdh(*document);
    }
  }
  return make_error(Errc::kUnsupportedType, "unknown dialect");
}

std::string accepted_answer(const Inbound& inbound, const std::string& native_acceptance,
                            TimePoint now, const std::string& instance_id) {
  if (inbound.dialect == Dialect::kSbdh && inbound.sbdh) {
    auto ack = adapters::make_receipt_acknowledgement(*inbound.sbdh, {instance_id, now});
    if (ack) return adapters::write_sbdh(*ack);
  }
  return native_acceptance;
}

std::string refused_answer(Dialect dialect, const Inbound* inbound, const Envelope& native_refusal,
                           TimePoint now, const std::string& instance_id) {
  if (dialect == Dialect::kSbdh && inbound && inbound->sbdh && !inbound->signal) {
    const auto& refusal = std::get<NegativeReceipt>(native_refusal.letters.front().body);
    auto exception = adapters::make_receipt_exception(*inbound->sbdh, "SyntaxException",
                                                      refusal.text, {instance_id, now});
    if (exception) return adapters::write_sbdh(*exception);
  }
  if (dialect == Dialect::kOioxml) {
    auto xctl01 = adapters::native_to_oioxml(native_refusal, adapters::OioxmlWriteOptions{});
    if (xctl01) return *xctl01;
  }
  return encode_envelope(native_refusal);
}

}  // namespace sektorbro
