// Which member of a shared-subscription group gets one message: a pure function of the
// group's member list, its cursor and the strategy, so it is tested without shards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "broker/config/config.hpp"

namespace shardmq::broker {

// A member as the group's owner shard knows it: the session's home shard and its handle
// there (SharedMemberships on that shard), and whether its client is connected.
struct SharedMember {
  std::uint16_t home = 0;
  bool online = false;
  std::uint32_t index = 0;       // slot on the home shard
  std::uint32_t generation = 0;  // tells a reused slot from the one chosen
};

inline constexpr unsigned kNoShard = ~0u;

// The index of the member to send to, or -1 for an empty group. Offline members are
// skipped while any is online (`online` counts them). Round robin advances `cursor`;
// sticky maps `publisher_hash` onto the eligible members; local first takes the next
// eligible member homed on `publishing_shard`, else round robin.
inline int choose_member(const std::vector<SharedMember>& members, std::size_t online,
                         SharedStrategy strategy, std::uint32_t& cursor,
                         std::uint32_t publisher_hash, unsigned publishing_shard) {
  const std::size_t n = members.size();
  if (n == 0) return -1;
  const bool any_online = online != 0;
  auto eligible = [&](std::size_t i) { return !any_online || members[i].online; };
  if (strategy == SharedStrategy::sticky) {
    std::size_t k = publisher_hash % (any_online ? online : n);
    for (std::size_t i = 0; i < n; ++i)
      if (eligible(i) && k-- == 0) return static_cast<int>(i);
  }
  auto next = [&](auto&& also) -> int {
    for (std::size_t step = 0; step < n; ++step) {
      const std::size_t i = (cursor + step) % n;
      if (eligible(i) && also(i)) {
        cursor = static_cast<std::uint32_t>((i + 1) % n);
        return static_cast<int>(i);
      }
    }
    return -1;
  };
  if (strategy == SharedStrategy::local_first && publishing_shard != kNoShard) {
    int local = next([&](std::size_t i) { return members[i].home == publishing_shard; });
    if (local >= 0) return local;
  }
  return next([](std::size_t) { return true; });
}

}  // namespace shardmq::broker
