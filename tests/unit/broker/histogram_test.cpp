// The metrics surface: each shard's histogram in powers of two, the reader's sum over the
// shards (BrokerStats::sum), and the per-turn latency samples that fill one (DeliveryLatency).
#include <catch2/catch.hpp>

#include "broker/metrics/broker_stats.hpp"
#include "broker/metrics/delivery_latency.hpp"

using shardmq::broker::BrokerStats;
using shardmq::broker::DeliveryLatency;
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

TEST_CASE("delivery latency: a turn's samples are recorded at its end against one clock reading",
          "[broker][metrics]") {
  Histogram h;
  DeliveryLatency d;
  CHECK_FALSE(d.pending());
  d.delivered(1000);  // three messages of one receive
  d.delivered(1000);
  d.delivered(1000);
  d.delivered(1900);  // one of a later receive
  d.delivered(0);     // a will: no arrival stamp, no sample
  REQUIRE(d.pending());
  d.end_turn_at(2000, h);
  CHECK_FALSE(d.pending());
  Histogram::Snapshot s{};
  std::uint64_t sum = 0;
  h.add_to(s, sum);
  CHECK(s[Histogram::bucket_of(1000)] == 3);
  CHECK(s[Histogram::bucket_of(100)] == 1);
  CHECK(sum == 3 * 1000 + 100);
  std::uint64_t count = 0;
  for (auto n : s)
    count += n;
  CHECK(count == 4);
  d.end_turn_at(3000, h);  // nothing delivered since: nothing recorded
  Histogram::Snapshot again{};
  std::uint64_t sum2 = 0;
  h.add_to(again, sum2);
  CHECK(again == s);
}

TEST_CASE("delivery latency: a stamp after the turn's reading counts as zero, not as 2^64",
          "[broker][metrics]") {
  Histogram h;
  DeliveryLatency d;
  d.delivered(5000);  // stamped on another shard's clock reading, just after ours
  d.end_turn_at(4999, h);
  Histogram::Snapshot s{};
  std::uint64_t sum = 0;
  h.add_to(s, sum);
  CHECK(s[0] == 1);
  CHECK(sum == 0);
}

TEST_CASE("delivery latency: one arrival stamp a turn, a new one after the turn ends",
          "[broker][metrics]") {
  Histogram h;
  DeliveryLatency d;
  const std::uint64_t first = d.arrival_us();
  CHECK(first > 0);
  CHECK(d.arrival_us() == first);  // the turn's later receives share it
  d.end_turn(h);                   // nothing delivered: no sample, but the turn is over
  Histogram::Snapshot s{};
  std::uint64_t sum = 0;
  h.add_to(s, sum);
  CHECK(s == Histogram::Snapshot{});
  CHECK(d.arrival_us() >= first);  // read again
}
