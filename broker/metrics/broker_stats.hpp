// The metrics surface: process-wide figures read by $SYS (and, later, an exporter). Each
// shard owns its counters and histograms and only it writes them; readers sum the shards'
// relaxed loads (no shared cache line is written by two shards on the message path). A part
// adds a figure here and bumps it through its ShardContext; nothing else is needed for the
// reader to see it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "broker/metrics/histogram.hpp"

namespace shardmq::broker {

struct alignas(64) ShardCounters {
  std::atomic<std::uint64_t> clients_connected{0};
  std::atomic<std::uint64_t> clients_total{0};  // connects accepted since start
  std::atomic<std::uint64_t> messages_received{0};
  std::atomic<std::uint64_t> messages_sent{0};
  std::atomic<std::uint64_t> bytes_received{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> messages_dropped{0};    // QoS 0 to a full outbound queue, and:
  std::atomic<std::uint64_t> messages_too_large{0};  // over a client's Maximum Packet Size
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> retained_dropped{0};  // over the retained ceiling
  std::atomic<std::uint64_t> messages_expired{0};  // MQTT 5 Message Expiry passed before sending
  std::atomic<std::uint64_t> subscriptions{0};
  std::atomic<std::uint64_t> publish_throttled{0};     // reads paused for a publish rate
  std::atomic<std::uint64_t> connect_rate_refused{0};  // CONNECTs over max_connect_rate
  Histogram mesh_batch;  // envelopes drained from the other shards per loop turn (if any)

  // Only the owning shard writes, so a plain load+store beats an atomic RMW.
  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

struct BrokerStats {
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::unique_ptr<ShardCounters[]> shards;
  unsigned shard_count = 0;
  std::atomic<std::uint64_t> clients_maximum{0};

  void init(unsigned n) {
    shards.reset(new ShardCounters[n]);
    shard_count = n;
  }
  std::uint64_t sum(std::atomic<std::uint64_t> ShardCounters::*field) const {
    std::uint64_t s = 0;
    for (unsigned i = 0; i < shard_count; ++i)
      s += (shards[i].*field).load(std::memory_order_relaxed);
    return s;
  }
  Histogram::Snapshot sum(Histogram ShardCounters::*field, std::uint64_t* total = nullptr) const {
    Histogram::Snapshot into{};
    std::uint64_t t = 0;
    for (unsigned i = 0; i < shard_count; ++i)
      (shards[i].*field).add_to(into, t);
    if (total) *total = t;
    return into;
  }
};

}  // namespace shardmq::broker
