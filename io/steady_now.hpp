// Monotonic time as a whole number of `Unit` (std::chrono::seconds, milliseconds,
// microseconds): the same clock on every thread, so a stamp one shard takes another can read.
// Never goes back; its epoch is arbitrary (boot, on Linux).
#pragma once

#include <chrono>
#include <cstdint>

namespace shardmq::io {

template <class Unit>
inline std::uint64_t steady_now() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<Unit>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

}  // namespace shardmq::io
