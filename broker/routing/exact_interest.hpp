// ExactInterest: which shards have subscribers for each filter without wildcards, in one
// table all the shards share, so that what a million single-topic subscribers cost here
// grows with the number of distinct filters and not with filters x shards.
//
// Ownership rule: shard i writes only bit i of an entry's mask (an entry is made when its
// first bit is set and freed when its last is cleared); any shard reads. The table is split
// into stripes by the filter's hash, each with its own reader-writer lock: a writer (a
// subscription that is a filter's first or last on its shard) holds one stripe for a hash
// insert or erase, a reader (a publish whose route is not cached) holds it shared for one
// lookup. It is the one structure shards share besides the rings (docs/architecture.md,
// "Interest and SUBACK ordering", says why it is not a ring protocol).
//
// version() moves after every change (a bit set or cleared), so a shard's cached routes
// (RouteCache), which hold masks read from here, are valid while it and the shard's own
// version are unchanged. A subscriber's shard changes the table, then the version, and only
// then sends SUBACK; a publish that follows the SUBACK reads the new version and the new mask.
//
// Owns: the entries and their stripes. Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string_view>

#include "core/intrusive_hash_index.hpp"

namespace shardmq::broker {

class ExactInterest {
 public:
  static constexpr unsigned kMaxShards = 64;

  explicit ExactInterest(unsigned stripes = 256);
  ~ExactInterest();
  ExactInterest(const ExactInterest&) = delete;
  ExactInterest& operator=(const ExactInterest&) = delete;

  // Shard `shard` (< kMaxShards) has (on) or no longer has subscribers for `filter`.
  void set(std::string_view filter, unsigned shard, bool on);
  // Bit i set: shard i has subscribers for exactly `topic`.
  std::uint64_t mask(std::string_view topic) const;
  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }

  // Filters with at least one shard, and the bytes their entries and buckets hold (a
  // snapshot: other shards may be changing it).
  std::size_t size() const;
  std::size_t memory_bytes() const;

 private:
  // One allocation: the header, then the filter's bytes.
  struct Entry {
    Entry* next = nullptr;
    std::uint64_t mask = 0;
    std::uint32_t hash = 0;  // the low half of the filter's XXH3 (the high half picks the stripe)
    std::uint32_t size = 0;
    std::string_view filter() const { return {reinterpret_cast<const char*>(this + 1), size}; }
  };
  struct Key {
    std::string_view filter;
    std::uint32_t hash;
    bool operator==(const Key& o) const { return hash == o.hash && filter == o.filter; }
  };
  struct ByFilter {
    static Key key(const Entry& e) { return {e.filter(), e.hash}; }
    static Entry*& next(Entry& e) { return e.next; }
    static std::size_t hash(const Key& k) { return k.hash; }
  };
  struct alignas(64) Stripe {
    mutable std::shared_mutex lock;
    core::IntrusiveHashIndex<Entry, ByFilter> index;
  };

  const Stripe& stripe(std::uint64_t h) const { return stripes_[(h >> 32) & stripe_mask_]; }
  Stripe& stripe(std::uint64_t h) { return stripes_[(h >> 32) & stripe_mask_]; }

  std::unique_ptr<Stripe[]> stripes_;
  unsigned stripe_mask_ = 0;
  alignas(64) std::atomic<std::uint64_t> version_{1};
};

}  // namespace shardmq::broker
