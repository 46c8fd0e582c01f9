// Log-linear latency histogram (HDR-style): values below 64 are exact, above that every
// power of two is split into 32 linear sub-buckets, so any recorded value is reported
// within ~3%. Fixed size and trivially copyable: worker processes send it through a pipe
// as raw bytes and the parent merges.
#pragma once

#include <array>
#include <cstdint>

namespace shardmq::loadgen {

class Histogram {
 public:
  static constexpr int kSubBits = 5;             // 32 sub-buckets per power of two
  static constexpr int kLinear = 2 << kSubBits;  // values below this are exact (64)
  static constexpr int kBuckets = kLinear + (64 - kSubBits - 1) * (1 << kSubBits);

  void record(std::uint64_t value);
  void merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }
  // Value at quantile q in [0, 1] (upper edge of its bucket, capped at max()); 0 if empty.
  std::uint64_t percentile(double q) const;

 private:
  static int bucket_of(std::uint64_t v);
  static std::uint64_t bucket_upper(int b);

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

}  // namespace shardmq::loadgen
