#include "broker/store/write_combiner.hpp"

#include <cassert>

namespace sektorbro {

bool WriteCombiner::accepts(std::int64_t offset, std::size_t n) const {
  if (n > capacity_ - run_.size()) return false;
  return run_.empty() || offset == offset_ + static_cast<std::int64_t>(run_.size());
}

void WriteCombiner::append(const void* bytes, std::size_t n, std::int64_t offset) {
  assert(accepts(offset, n));
  if (run_.empty()) offset_ = offset;
  run_.append(static_cast<const char*>(bytes), n);
}

}  // namespace sektorbro
