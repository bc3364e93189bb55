// WriteCombiner: consecutive writes to one file gathered into one (issue 8). SQLite writes each
// WAL frame as two writes — its 24-byte header, then the page — so a commit group of a few dozen
// letters is a few hundred pwrite calls; on this project's machines each call costs ~2 µs of
// kernel entry, ext4 locking and timestamp work beyond the copy (docs/performance.md, "One write
// per commit"). The combiner holds one run of contiguous bytes; its owner writes the run out in
// one call when a write does not continue it, when it is full, and before anything that must see
// the file as written (a read, a sync, a size, a truncate, a close).
//
// Pure: no I/O; the owner (timed_vfs.cpp, the WAL file of the writer connection) does the writing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sektorbro {

class WriteCombiner {
 public:
  explicit WriteCombiner(std::size_t capacity) : capacity_(capacity) { run_.reserve(capacity); }

  // Whether `n` bytes written at `offset` can join the run: it is empty, or they follow its last
  // byte, and they fit. A write that cannot is preceded by a flush of the run; one larger than
  // the capacity goes to the file by itself.
  bool accepts(std::int64_t offset, std::size_t n) const;
  // Adds the bytes to the run. Requires accepts(offset, n).
  void append(const void* bytes, std::size_t n, std::int64_t offset);

  bool empty() const { return run_.empty(); }
  // The run: its bytes and the file offset of the first.
  std::string_view bytes() const { return run_; }
  std::int64_t offset() const { return offset_; }
  // After the run was written (or its write failed: the caller reports that error).
  void clear() { run_.clear(); }
  std::size_t capacity() const { return capacity_; }

 private:
  std::size_t capacity_;
  std::string run_;
  std::int64_t offset_ = 0;
};

}  // namespace sektorbro
