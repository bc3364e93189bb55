// The SBDH adapter's fuzz oracle, shared by fuzz_sbdh.cpp and the ctest case that replays the
// saved corpus (sbdh/tests/sbdh_corpus_replay_test.cpp). Whatever parses is written back and must
// parse to the same value; its signal and native payload are read and a ReceiptAcknowledgement
// written for it without a crash. Returns false on a violation; never throws.
#pragma once

#include <string_view>

#include "adapters/sbdh/sbdh_document.hpp"
#include "adapters/sbdh/sbdh_native.hpp"
#include "adapters/sbdh/sbdh_receipts.hpp"

namespace sektorbro::adapters {

inline bool sbdh_oracle(std::string_view bytes) {
  auto doc = parse_sbdh(bytes);
  if (!doc) return true;
  auto back = parse_sbdh(write_sbdh(*doc));
  if (!back || !(*back == *doc)) return false;
  (void)read_signal(*doc);
  (void)unwrap_native_envelope(*doc);
  (void)make_receipt_acknowledgement(*doc, {"ack-1", {}});
  return true;
}

}  // namespace sektorbro::adapters
