// How many sockets one loop may hold.
#pragma once

#include <sys/resource.h>

#include <cstdint>

namespace shardmq::io {

// Sockets a loop may hold: `requested` (0: no request) capped by the soft RLIMIT_NOFILE,
// which the kernel also imposes on an io_uring fixed-file table.
inline std::uint32_t socket_limit(std::uint32_t requested) {
  rlimit rl{};
  std::uint64_t soft = 1024;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0)
    soft = rl.rlim_cur == RLIM_INFINITY ? (1u << 20) : rl.rlim_cur;
  if (soft > (1u << 20)) soft = 1u << 20;  // the kernel's limit on fixed-file tables
  if (requested == 0 || requested > soft) return static_cast<std::uint32_t>(soft);
  return requested;
}

}  // namespace shardmq::io
