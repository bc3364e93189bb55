// The OIOXML adapter's fuzz oracle, shared by fuzz_oioxml.cpp and the ctest case that replays
// the saved corpus (oioxml/tests/oioxml_corpus_replay_test.cpp). Whatever parses is written back,
// in ISO-8859-1 and in UTF-8, and must parse to the same value; its receipts are read and a
// positive receipt written for it without a crash. Returns false on a violation; never throws.
#pragma once

#include <string_view>

#include "adapters/oioxml/oioxml_codec.hpp"
#include "adapters/oioxml/oioxml_receipts.hpp"

namespace sektorbro::adapters {

inline bool oioxml_oracle(std::string_view bytes) {
  auto doc = parse_oioxml(bytes);
  if (!doc) return true;
  for (auto enc : {TextEncoding::kIso88591, TextEncoding::kUtf8}) {
    auto back = parse_oioxml(write_oioxml(doc->message, {enc, false}));
    if (!back || !(back->message == doc->message)) return false;
  }
  (void)receipts_to_native(doc->message);
  (void)write_positive_receipt(doc->message, {"E1", "L1", {}, {}});
  return true;
}

}  // namespace sektorbro::adapters
