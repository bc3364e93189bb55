// The daemon's allocator (issue 8). The broker allocates on every letter on four threads (the
// io and codec threads, the writer, the delivery transport); glibc's malloc cost ~11 % of its
// CPU under the side-by-side load, and jemalloc (Debian's libjemalloc2, linked into the
// `sektorbro` binary only: CMake option SEKTORBRO_ALLOCATOR) ~9 % less CPU per delivered letter
// in total (docs/performance.md, "The allocator").
//
// Linking a malloc is not proof that it serves malloc (link order, an LD_PRELOAD can override
// it): allocator_in_use() asks jemalloc whether a malloc() just made went through it.
#pragma once

#include <string>

namespace sektorbro {

// "jemalloc 5.3.0-0-g…" when jemalloc is linked and served a malloc() made here; "glibc malloc"
// when the build chose the system allocator; "jemalloc 5.3.0-… (linked, not serving malloc)"
// when it is linked but something else answered.
std::string allocator_in_use();

}  // namespace sektorbro
