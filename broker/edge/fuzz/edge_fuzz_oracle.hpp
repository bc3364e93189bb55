// The edge's fuzz oracle, shared by fuzz_edge.cpp and the ctest case that replays the saved
// corpus (broker/edge/tests/edge_corpus_replay_test.cpp). Arbitrary bytes go through everything
// in broker/edge that reads untrusted bytes — sniff_dialect, sniff_fhir, decode_inbound,
// read_leniently, walk_well_formed_prefix — and the answers written from what was read
// (accepted_answer, refused_answer in every dialect). Besides not crashing (ASan/UBSan in the
// fuzz build), it checks the lenient reading's contract (issue 9):
//   - the well-formed prefix is self-contained: the bytes cut at its end report exactly the same
//     elements, so nothing after the first fault influenced what was read;
//   - from a document that does not parse as XML, only identifiers are taken: at most 100
//     printable ASCII characters with no markup or space in them, never content.
// Returns false on a violation; never throws.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "adapters/fhir/fhir_json.hpp"
#include "broker/codec/codec.hpp"
#include "broker/edge/edge_codec.hpp"
#include "broker/edge/well_formed_prefix.hpp"
#include "broker/xml/text_encoding.hpp"
#include "broker/xml/xml_document.hpp"

namespace sektorbro {

namespace edge_fuzz {

inline std::vector<std::string> prefix_elements(std::string_view bytes, std::size_t* length) {
  std::vector<std::string> out;
  *length = walk_well_formed_prefix(bytes, [&](const PrefixElement& e) {
    std::string line;
    for (auto n : e.path) (line += n) += '/';
    (((line += '=') += e.text) += '@') += e.value;
    out.push_back(std::move(line));
    return true;
  });
  return out;
}

inline bool id_only(std::string_view id) {
  if (id.size() > 100) return false;
  for (char c : id) {
    if (c <= 0x20 || c >= 0x7F || c == '<' || c == '>' || c == '&' || c == '"' || c == '\'')
      return false;
  }
  return true;
}

}  // namespace edge_fuzz

inline bool edge_oracle(std::string_view bytes) {
  const TimePoint now{};
  // The one lenient reader: its prefix is self-contained.
  std::size_t length = 0;
  const auto elements = edge_fuzz::prefix_elements(bytes, &length);
  if (length > bytes.size()) return false;
  std::size_t again = 0;
  if (edge_fuzz::prefix_elements(bytes.substr(0, length), &again) != elements || again != length)
    return false;

  (void)sniff_dialect(bytes);
  (void)answer_content_type(bytes);
  const Inbound unread = read_leniently(bytes);
  if (!adapters::looks_like_json(bytes)) {
    auto decoded = decode_document(bytes);
    const bool parses = decoded && parse_xml_document(decoded->utf8);
    if (!parses) {
      const OriginalIds& o = unread.original;
      if (!edge_fuzz::id_only(o.sender_gln) || !edge_fuzz::id_only(o.sender_sor) ||
          !edge_fuzz::id_only(o.envelope_id) || !edge_fuzz::id_only(o.fhir_header_id))
        return false;
      for (const auto& id : o.letter_ids)
        if (!edge_fuzz::id_only(id)) return false;
    }
  }

  // The broker's refusal of what it read, in every dialect (the intake's path for bytes that do
  // not decode), and its answer to what decodes.
  Envelope refusal;
  refusal.id = "SBFUZZ1";
  refusal.sent = now;
  Letter l;
  l.id = "SBFUZZ1";
  l.authorised = now;
  l.sender.gln = "5790000000005";
  l.receiver.gln =
      unread.original.sender_gln.empty() ? "5790000000005" : unread.original.sender_gln;
  NegativeReceipt nr;
  nr.level = ReceiptLevel::kNetwork;
  nr.code = RefuseCode::kSyntaxError;
  nr.text = "fuzz";
  nr.original = {unread.original.envelope_id, unread.original.letter_ids};
  l.body = nr;
  refusal.letters.push_back(l);
  for (Dialect d : {Dialect::kNative, Dialect::kOioxml, Dialect::kSbdh, Dialect::kFhir})
    (void)refused_answer(d, &unread, refusal, now, "SBFUZZ2", Errc::kMalformed);

  auto in = decode_inbound(bytes, now);
  if (in) {
    (void)signal_envelope_candidates(*in);
    (void)check_signal_reference(*in, false);
    (void)accepted_answer(*in, "<Acceptance/>", now, "SBFUZZ3");
    (void)refused_answer(in->dialect, &*in, refusal, now, "SBFUZZ4", Errc::kInvalid);
  }
  return true;
}

}  // namespace sektorbro
