// A per-shard histogram in powers of two: bucket i counts values v with bit_width(v) == i
// (bucket 0 holds zeros, bucket 1 holds 1, bucket 2 holds 2-3, bucket 3 holds 4-7, ...).
// Like the counters, only the owning shard writes it (relaxed load and store, no atomic
// read-modify-write) and readers sum the shards' buckets (BrokerStats::sum).
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace shardmq::broker {

class Histogram {
 public:
  static constexpr std::size_t kBuckets = 33;  // values up to 2^32 - 1, then the last bucket
  using Snapshot = std::array<std::uint64_t, kBuckets>;

  static constexpr std::size_t bucket_of(std::uint64_t v) {
    std::size_t b = static_cast<std::size_t>(std::bit_width(v));
    return b < kBuckets ? b : kBuckets - 1;
  }
  // The largest value bucket `b` holds (its upper bound, as Prometheus' "le").
  static constexpr std::uint64_t upper_bound(std::size_t b) {
    return b == 0 ? 0 : (std::uint64_t(1) << b) - 1;
  }

  // Owner thread only: `n` values of `v`.
  void record(std::uint64_t v, std::uint64_t n = 1) {
    auto& c = buckets_[bucket_of(v)];
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    sum_.store(sum_.load(std::memory_order_relaxed) + v * n, std::memory_order_relaxed);
  }

  // Any thread: adds this histogram's counts to `into` (and its sum to `sum`).
  void add_to(Snapshot& into, std::uint64_t& sum) const {
    for (std::size_t i = 0; i < kBuckets; ++i)
      into[i] += buckets_[i].load(std::memory_order_relaxed);
    sum += sum_.load(std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> sum_{0};
};

}  // namespace shardmq::broker
