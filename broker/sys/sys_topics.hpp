// The broker's figures as retained messages under $SYS/broker/, with Mosquitto's names and
// meanings (docs/operations.md lists them), every sys_interval seconds, from shard 0:
// counters summed over the shards, highest values sampled every tick (the heap's every
// second), and the per-minute load as moving averages over 1, 5 and 15 minutes.
//
// Owns: the load averages. Calls: Router (the publishes), RetainedStore (the count),
// BrokerStats (the sums and maxima). Called by: the shard, on its tick.
#pragma once

#include <chrono>
#include <cstdint>

#include "broker/metrics/broker_stats.hpp"
#include "broker/shard/shard_context.hpp"
#include "broker/sys/load_average.hpp"

namespace shardmq::broker {

class RetainedStore;
class Router;

class SysTopics {
 public:
  SysTopics(ShardContext& ctx, BrokerStats& stats, Router& router, RetainedStore& retained);

  // Samples the maxima; publishes on the first call, then whenever the interval has passed.
  void on_tick();

 private:
  void publish();

  static constexpr std::uint64_t kHeapSampleTicks = 1000 / ShardContext::kTickMs;

  ShardContext& ctx_;
  BrokerStats& stats_;
  Router& router_;
  RetainedStore& retained_;
  bool started_ = false;
  std::uint64_t next_tick_ = 0;
  std::chrono::steady_clock::time_point last_publish_{};
  struct Loads {
    LoadAverage packets_received, packets_sent, bytes_received, bytes_sent;
    LoadAverage publish_received, publish_sent, publish_dropped, connections, sockets;
  } load_;
};

}  // namespace shardmq::broker
