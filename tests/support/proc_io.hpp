// proc_self_io: one counter of this process's I/O accounting from Linux /proc/self/io
// (proc(5)), for the tests and benchmarks that measure what the store writes. Header-only, so
// a module's tests and the benchmarks can use it without linking another library.
//
// The counters these callers use: "wchar" counts every byte handed to write() and pwrite(),
// temporary files deleted before they reach the disk (SQLite's sub-journals) included;
// "write_bytes" counts the bytes this process caused to be sent to storage.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

namespace sektorbro::testing {

// The counter named `field` (without its colon: "wchar", "write_bytes") as it is now; 0 when
// /proc/self/io cannot be read or has no such field (not Linux, or no task I/O accounting).
inline std::uint64_t proc_self_io(std::string_view field) {
  std::ifstream io("/proc/self/io");
  std::string key;
  std::uint64_t value = 0;
  while (io >> key >> value)
    if (key.size() == field.size() + 1 && key.back() == ':' && key.starts_with(field)) return value;
  return 0;
}

}  // namespace sektorbro::testing
