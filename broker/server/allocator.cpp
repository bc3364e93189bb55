#include "broker/server/allocator.hpp"

#include <cstdint>
#include <cstdlib>

#ifdef SEKTORBRO_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

namespace sektorbro {

std::string allocator_in_use() {
#ifdef SEKTORBRO_JEMALLOC
  const char* version = nullptr;
  std::size_t size = sizeof(version);
  if (mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr)
    return "jemalloc (linked, its version unreadable)";
  const std::string name = std::string("jemalloc ") + version;
  // thread.allocated: the bytes this thread has allocated through jemalloc so far. A plain
  // malloc() of 4 KiB that jemalloc serves moves it by at least that much.
  auto allocated = [] {
    std::uint64_t bytes = 0;
    std::size_t n = sizeof(bytes);
    return mallctl("thread.allocated", &bytes, &n, nullptr, 0) == 0 ? bytes : 0;
  };
  const std::uint64_t before = allocated();
  void* volatile probe = std::malloc(4096);
  const std::uint64_t after = allocated();
  std::free(probe);
  if (after < before + 4096) return name + " (linked, not serving malloc)";
  return name;
#else
  return "glibc malloc";
#endif
}

}  // namespace sektorbro
