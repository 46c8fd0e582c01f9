#include "broker/metrics/heap_usage.hpp"

#include <malloc.h>

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
// The sanitizer runtime's (sanitizer/allocator_interface.h, which GCC does not install).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

// jemalloc's control interface, when the executable is linked against it (the broker library
// is not: a weak reference is null without jemalloc).
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp,
                       std::size_t newlen) __attribute__((weak));

namespace shardmq::broker {

std::uint64_t heap_bytes_in_use() {
#if defined(__SANITIZE_ADDRESS__)
  // Under ASan every malloc is the sanitizer's, whatever else is linked.
  return __sanitizer_get_current_allocated_bytes();
#else
  if (mallctl) {
    std::uint64_t epoch = 1;
    std::size_t len = sizeof(epoch);
    mallctl("epoch", &epoch, &len, &epoch, len);  // statistics are cached until refreshed
    std::size_t allocated = 0;
    len = sizeof(allocated);
    if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) == 0) return allocated;
  }
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
#endif
}

}  // namespace shardmq::broker
