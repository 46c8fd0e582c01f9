// What every part of a shard reads: which shard it is, the configuration, the shard's clock
// and its counters, and this turn's latency samples. The shard owns it and advances the
// clock; a part writes only the counters of its own concern (see metrics/broker_stats.hpp).
#pragma once

#include <cstdint>

#include "broker/config/config.hpp"
#include "broker/metrics/broker_stats.hpp"
#include "broker/metrics/delivery_latency.hpp"

namespace shardmq::broker {

struct ShardContext {
  static constexpr unsigned kTickMs = 100;

  unsigned id = 0;
  unsigned shards = 1;
  const Config& config;
  ShardCounters& counters;
  std::uint64_t tick = 0;   // advanced every kTickMs by the shard's loop
  bool destroying = false;  // the shard is being torn down: tell no other shard anything
  // This turn's publish-to-delivery samples: the parts that deliver note them, the shard
  // records them at the turn's end (Shard::on_turn_end).
  DeliveryLatency delivery_latency;

  std::uint16_t self() const { return static_cast<std::uint16_t>(id); }
  static std::uint64_t ms_to_ticks(std::uint64_t ms) { return (ms + kTickMs - 1) / kTickMs; }
};

}  // namespace shardmq::broker
