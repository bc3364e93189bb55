// The XML layer's fuzz oracle, shared by the libFuzzer target (fuzz_xml.cpp) and the ctest case
// that replays the saved corpus (tests/corpus_replay_test.cpp): any bytes go through the
// encoding layer, the reader and the formatted-text reader; whatever reads as formatted text
// must be canonical (check_formatted_text) and read back the same. Returns false on a
// violation; never throws.
#pragma once

#include <string_view>

#include "broker/xml/formatted_text.hpp"
#include "broker/xml/text_encoding.hpp"
#include "broker/xml/xml_document.hpp"

namespace sektorbro {

inline bool xml_oracle(std::string_view bytes) {
  auto decoded = decode_document(bytes);
  if (!decoded) return true;
  auto tree = parse_xml_document(decoded->utf8);
  if (!tree) return true;
  (void)text_with_breaks(*tree, "Break");
  auto fragment = formatted_text_from(*tree, tree->ns);
  if (!fragment) return true;
  if (!check_formatted_text(*fragment).ok()) return false;
  // The plain rendering of the fragment is the plain rendering of its plain-text fragment.
  const std::string plain = plain_text_of(*fragment);
  return plain_text_of_blocks({formatted_text_of_plain(plain)}) ==
         plain_text_of_blocks({*fragment});
}

}  // namespace sektorbro
