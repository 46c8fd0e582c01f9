// The broker's figures as retained messages under $SYS/broker/ (Mosquitto's names), every
// sys_interval seconds, from shard 0: counters summed over the shards, and per-minute load
// as exponentially weighted rates.
//
// Owns: the load averages. Calls: Router (the publishes), RetainedStore (the count),
// BrokerStats (the sums). Called by: the shard, on its tick.
#pragma once

#include <cstdint>

#include "broker/metrics/broker_stats.hpp"
#include "broker/shard/shard_context.hpp"

namespace shardmq::broker {

class RetainedStore;
class Router;

class SysTopics {
 public:
  SysTopics(ShardContext& ctx, BrokerStats& stats, Router& router, RetainedStore& retained);

  // Publishes now on the first call, then whenever the interval has passed.
  void on_tick();

 private:
  void publish();

  ShardContext& ctx_;
  BrokerStats& stats_;
  Router& router_;
  RetainedStore& retained_;
  bool started_ = false;
  std::uint64_t next_tick_ = 0;
  struct Load {
    double received = 0, sent = 0, bytes_received = 0, bytes_sent = 0;
    std::uint64_t last_received = 0, last_sent = 0, last_bytes_received = 0, last_bytes_sent = 0;
  } load_;
  bool load_started_ = false;
};

}  // namespace shardmq::broker
