// ShardInterest: which shards have at least one subscriber for which filters,
// so a shard forwards a publish only to shards that will deliver it.
// Each (filter, shard) is reference counted: one add per local subscription
// (or per distinct filter per shard, as the caller prefers) and a matching
// remove; the entry disappears when its count reaches zero.
// Limit: shards are numbered 0..63 (the mask is a uint64_t); add() refuses
// larger numbers.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/topic_index.hpp"

namespace shardmq::core {

class ShardInterest {
 public:
  static constexpr unsigned kMaxShards = 64;

  // False (and no change) when shard >= kMaxShards.
  bool add(std::string_view filter, unsigned shard) {
    if (shard >= kMaxShards) return false;
    const auto s = static_cast<std::uint8_t>(shard);
    if (std::uint32_t* count = index_.find(filter, s)) {
      ++*count;
    } else {
      index_.insert(filter, s, 1);
    }
    return true;
  }
  // False if (filter, shard) had no count.
  bool remove(std::string_view filter, unsigned shard) {
    if (shard >= kMaxShards) return false;
    const auto s = static_cast<std::uint8_t>(shard);
    std::uint32_t* count = index_.find(filter, s);
    if (count == nullptr) return false;
    if (--*count == 0) index_.erase(filter, s);
    return true;
  }
  // Bit i set when shard i has a filter matching `topic`. Allocation free.
  std::uint64_t match_mask(std::string_view topic) const {
    std::uint64_t mask = 0;
    index_.match(topic, [&](std::uint8_t shard, std::uint32_t) { mask |= 1ull << shard; });
    return mask;
  }
  // Distinct (filter, shard) pairs with a non-zero count.
  std::size_t size() const noexcept { return index_.size(); }
  void clear() { index_.clear(); }

 private:
  TopicIndex<std::uint8_t, std::uint32_t> index_;
};

}  // namespace shardmq::core
