// The metrics surface: each shard's histogram in powers of two, and the reader's sum over
// the shards (BrokerStats::sum).
#include <catch2/catch.hpp>

#include "broker/metrics/broker_stats.hpp"

using shardmq::broker::BrokerStats;
using shardmq::broker::Histogram;
using shardmq::broker::ShardCounters;

TEST_CASE("histogram: a value lands in the bucket whose upper bound first holds it",
          "[broker][metrics]") {
  CHECK(Histogram::bucket_of(0) == 0);
  CHECK(Histogram::bucket_of(1) == 1);
  CHECK(Histogram::bucket_of(2) == 2);
  CHECK(Histogram::bucket_of(3) == 2);
  CHECK(Histogram::bucket_of(4) == 3);
  CHECK(Histogram::bucket_of(4095) == 12);
  CHECK(Histogram::bucket_of(~std::uint64_t(0)) == Histogram::kBuckets - 1);
  for (std::uint64_t v : {0ull, 1ull, 7ull, 1000ull, 123456789ull}) {
    const std::size_t b = Histogram::bucket_of(v);
    CHECK(v <= Histogram::upper_bound(b));
    if (b > 0) CHECK(v > Histogram::upper_bound(b - 1));
  }
}

TEST_CASE("histogram: a reader sums every shard's buckets and totals", "[broker][metrics]") {
  BrokerStats stats;
  stats.init(3);
  stats.shards[0].mesh_batch.record(1);
  stats.shards[0].mesh_batch.record(5);
  stats.shards[2].mesh_batch.record(5);
  stats.shards[2].mesh_batch.record(4096);
  std::uint64_t total = 0;
  Histogram::Snapshot s = stats.sum(&ShardCounters::mesh_batch, &total);
  CHECK(s[Histogram::bucket_of(1)] == 1);
  CHECK(s[Histogram::bucket_of(5)] == 2);
  CHECK(s[Histogram::bucket_of(4096)] == 1);
  std::uint64_t count = 0;
  for (auto n : s)
    count += n;
  CHECK(count == 4);
  CHECK(total == 1 + 5 + 5 + 4096);
}
