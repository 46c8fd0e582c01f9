#include "loadgen/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace shardmq::loadgen {

int Histogram::bucket_of(std::uint64_t v) {
  if (v < static_cast<std::uint64_t>(kLinear)) return static_cast<int>(v);
  int e = 63 - std::countl_zero(v);  // e >= kSubBits + 1
  int sub = static_cast<int>((v >> (e - kSubBits)) & ((1u << kSubBits) - 1));
  return kLinear + (e - kSubBits - 1) * (1 << kSubBits) + sub;
}

std::uint64_t Histogram::bucket_upper(int b) {
  if (b < kLinear) return static_cast<std::uint64_t>(b);
  int rel = b - kLinear;
  int e = rel / (1 << kSubBits) + kSubBits + 1;
  std::uint64_t sub = static_cast<std::uint64_t>(rel % (1 << kSubBits));
  std::uint64_t width = 1ull << (e - kSubBits);
  std::uint64_t lower = (1ull << e) + sub * width;
  return lower + width - 1;
}

void Histogram::record(std::uint64_t value) {
  ++counts_[static_cast<std::size_t>(bucket_of(value))];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& o) {
  for (std::size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += o.counts_[i];
  count_ += o.count_;
  sum_ += o.sum_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

std::uint64_t Histogram::percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[static_cast<std::size_t>(b)];
    if (seen >= rank) return std::min(bucket_upper(b), max_);
  }
  return max_;
}

}  // namespace shardmq::loadgen
