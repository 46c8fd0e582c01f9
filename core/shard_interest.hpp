// ShardInterest: which shards have at least one subscriber for which filters,
// so a shard forwards a publish only to shards that will deliver it.
// Each (filter, shard) is reference counted: one add per local subscription
// (or per distinct filter per shard, as the caller prefers) and a matching
// remove; the entry disappears when its count reaches zero.
// Limit: shards are numbered 0..63 (the mask is a uint64_t); add() refuses
// larger numbers.
//
// Storage: a LevelTrie of filters with, per node, a shard mask and the counts.
// A filter wanted by one shard (the usual case) keeps its count inline; one
// wanted by several holds a heap array of counts in shard order.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "core/level_trie.hpp"

namespace shardmq::core {

class ShardInterest {
 public:
  static constexpr unsigned kMaxShards = 64;

  // False (and no change) when shard >= kMaxShards.
  bool add(std::string_view filter, unsigned shard) {
    if (shard >= kMaxShards) return false;
    const LevelTrie::NodeId node = trie_.add_filter(filter);
    if (interest_.size() < trie_.id_limit()) {
      interest_.reserve(trie_.id_capacity());  // grow in step with the trie
      interest_.resize(trie_.id_limit());
    }
    if (interest_[node].add(shard)) ++pairs_;
    return true;
  }
  // False if (filter, shard) had no count.
  bool remove(std::string_view filter, unsigned shard) {
    if (shard >= kMaxShards) return false;
    LevelTrie::NodeId node = trie_.find_filter(filter);
    if (node == LevelTrie::kNone) return false;
    bool gone = false;
    if (!interest_[node].remove(shard, gone)) return false;
    if (!gone) return true;
    --pairs_;
    while (node != LevelTrie::kRoot && interest_[node].mask == 0 && !trie_.has_children(node)) {
      const LevelTrie::NodeId parent = trie_.parent(node);
      trie_.remove_leaf(node);
      node = parent;
    }
    return true;
  }
  // Bit i set when shard i has a filter matching `topic`. Allocation free.
  std::uint64_t match_mask(std::string_view topic) const {
    std::uint64_t mask = 0;
    trie_.match(topic, [&](LevelTrie::NodeId n) { mask |= interest_[n].mask; });
    return mask;
  }
  // Distinct (filter, shard) pairs with a non-zero count.
  std::size_t size() const noexcept { return pairs_; }
  // Approximate heap bytes held (trie, masks, count arrays).
  std::size_t memory_bytes() const noexcept {
    std::size_t bytes = trie_.memory_bytes() + interest_.capacity() * sizeof(Interest);
    for (const Interest& i : interest_) {
      if (std::popcount(i.mask) > 1) bytes += std::popcount(i.mask) * sizeof(std::uint32_t);
    }
    return bytes;
  }
  void clear() {
    trie_.clear();
    interest_.clear();
    interest_.resize(1);
    pairs_ = 0;
  }

 private:
  // One filter's shards. With one bit set `count` is inline; with more,
  // `counts` holds popcount(mask) counts ordered by shard number.
  struct Interest {
    std::uint64_t mask = 0;
    union {
      std::uint32_t count = 0;
      std::uint32_t* counts;
    };

    Interest() noexcept {}
    Interest(Interest&& o) noexcept : mask(std::exchange(o.mask, 0)) {
      std::memcpy(&counts, &o.counts, sizeof counts);  // whichever member is live
    }
    Interest& operator=(Interest&& o) noexcept {
      if (this != &o) {
        release();
        mask = std::exchange(o.mask, 0);
        std::memcpy(&counts, &o.counts, sizeof counts);
      }
      return *this;
    }
    ~Interest() { release(); }

    bool several() const noexcept { return std::popcount(mask) > 1; }
    void release() noexcept {
      if (several()) delete[] counts;
      mask = 0;
    }
    std::size_t rank(unsigned shard) const noexcept {
      return static_cast<std::size_t>(std::popcount(mask & ((1ull << shard) - 1)));
    }
    // True when the shard is new to this filter.
    bool add(unsigned shard) {
      const std::uint64_t bit = 1ull << shard;
      if (mask & bit) {
        ++(several() ? counts[rank(shard)] : count);
        return false;
      }
      if (mask == 0) {
        mask = bit;
        count = 1;
        return true;
      }
      resize_with(shard, bit, 1);
      return true;
    }
    // False if the shard had no count; `gone` when its count dropped to zero.
    bool remove(unsigned shard, bool& gone) noexcept {
      const std::uint64_t bit = 1ull << shard;
      if (!(mask & bit)) return false;
      std::uint32_t& c = several() ? counts[rank(shard)] : count;
      gone = --c == 0;
      if (!gone) return true;
      if (!several()) {
        mask = 0;
        return true;
      }
      resize_with(shard, bit, 0);
      return true;
    }
    // Copies the counts into a new layout where `bit` is added (keep == 1) or
    // dropped (keep == 0); a single remaining shard goes back inline.
    void resize_with(unsigned shard, std::uint64_t bit, int keep) {
      const std::uint64_t next = keep ? (mask | bit) : (mask & ~bit);
      std::uint32_t old_inline = count;
      const std::uint32_t* old = several() ? counts : &old_inline;
      std::uint32_t* fresh =
          std::popcount(next) > 1 ? new std::uint32_t[std::popcount(next)] : nullptr;
      std::uint32_t single = 0;
      std::size_t out = 0, in = 0;
      for (std::uint64_t m = next | mask; m != 0; m &= m - 1) {
        const unsigned s = static_cast<unsigned>(std::countr_zero(m));
        const bool was = (mask >> s) & 1, is = (next >> s) & 1;
        const std::uint32_t value = s == shard ? (keep ? 1u : 0u) : (was ? old[in] : 0u);
        if (was) ++in;
        if (!is) continue;
        if (fresh != nullptr) {
          fresh[out++] = value;
        } else {
          single = value;
        }
      }
      if (several()) delete[] counts;
      mask = next;
      if (fresh != nullptr) {
        counts = fresh;
      } else {
        count = single;
      }
    }
  };
  static_assert(sizeof(Interest) == 16);

  LevelTrie trie_{LevelTrie::Children::kCounted};
  std::vector<Interest> interest_ = std::vector<Interest>(1);  // by node id
  std::size_t pairs_ = 0;
};

}  // namespace shardmq::core
