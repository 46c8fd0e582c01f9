// Monotonic nanoseconds. CLOCK_MONOTONIC is shared by every process of the host, so a
// timestamp written into a payload by one worker can be compared by another.
#pragma once

#include <time.h>

#include <cstdint>

namespace shardmq::loadgen {

inline std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

inline constexpr std::uint64_t kNsPerSec = 1'000'000'000ull;

}  // namespace shardmq::loadgen
