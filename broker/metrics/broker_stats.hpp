// The metrics surface: process-wide figures read by $SYS (and, later, an exporter). Each
// shard owns its counters and histograms and only it writes them; readers sum the shards'
// relaxed loads (no shared cache line is written by two shards on the message path). A part
// adds a figure here and bumps it through its ShardContext; nothing else is needed for the
// reader to see it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "broker/metrics/histogram.hpp"

namespace shardmq::broker {

// Why a connection was refused (shardmq_connections_refused_total{reason}).
enum class RefuseReason : std::uint8_t {
  max_connections,  // limits.max_connections or the listener's: closed at accept
  connect_rate,     // limits.max_connect_rate
  bad_credentials,  // CONNACK 0x86 (5.0)
  not_authorized,   // CONNACK 0x87 / 3.1.1 code 5: anonymous refused, blocked, denied
  protocol,         // a CONNECT the broker cannot take: version, identifier, malformed
  server_busy,      // shutting down
};
inline constexpr std::size_t kRefuseReasons = 6;
inline constexpr const char* kRefuseReasonNames[kRefuseReasons] = {
    "max_connections", "connect_rate", "bad_credentials",
    "not_authorized",  "protocol",     "server_busy"};

struct alignas(64) ShardCounters {
  std::atomic<std::uint64_t> clients_connected{0};
  std::atomic<std::uint64_t> clients_total{0};  // connects accepted since start
  // PUBLISH packets and their payload bytes, by QoS (publish_received[qos]).
  std::array<std::atomic<std::uint64_t>, 3> publish_received{};
  std::array<std::atomic<std::uint64_t>, 3> publish_sent{};
  std::array<std::atomic<std::uint64_t>, 3> payload_bytes_received{};
  std::array<std::atomic<std::uint64_t>, 3> payload_bytes_sent{};
  std::atomic<std::uint64_t> packets_received{0};  // MQTT packets of every type
  std::atomic<std::uint64_t> packets_sent{0};
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

  // Prometheus /metrics (issue 14).
  std::atomic<std::uint64_t> connections_open{0};          // sockets the shard holds (a gauge)
  std::unique_ptr<std::atomic<std::uint64_t>[]> accepted;  // by listener (BrokerStats::init)
  std::array<std::atomic<std::uint64_t>, kRefuseReasons> refused{};  // by RefuseReason
  std::atomic<std::uint64_t> auth_success{0};                        // verdicts: accepted
  std::atomic<std::uint64_t> auth_failure{0};           // bad credentials, not authorised
  std::atomic<std::uint64_t> dropped_queue_full{0};     // a session's queue at limits.max_queued
  std::atomic<std::uint64_t> dropped_slow_consumer{0};  // QoS 0 over limits.max_outbound_bytes
  std::atomic<std::uint64_t> dropped_acl{0};  // PUBLISH refused, or a delivery denied, by the ACL
  Histogram delivery_latency_us;  // a PUBLISH's arrival to its delivery write, on this shard

  // Sessions homed on this shard (gauges): all of them, and those with a connection.
  std::atomic<std::uint64_t> sessions{0};
  std::atomic<std::uint64_t> sessions_online{0};
  std::atomic<std::uint64_t> sessions_expired{0};  // ended by their Session Expiry (a counter)
  // Messages the shard's sessions hold (gauges, one per session holding one): waiting for
  // the window or the client, and sent but not yet acknowledged.
  std::atomic<std::uint64_t> messages_queued{0};
  std::atomic<std::uint64_t> messages_inflight{0};
  // This shard's replica of the retained messages (gauges; every replica holds them all).
  std::atomic<std::uint64_t> retained_messages{0};
  std::atomic<std::uint64_t> retained_bytes{0};  // topics and payloads

  // Only the owning shard writes, so a plain load+store beats an atomic RMW.
  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  static void set(std::atomic<std::uint64_t>& c, std::uint64_t v) {
    c.store(v, std::memory_order_relaxed);
  }
  static void add(std::atomic<std::uint64_t>& c, std::int64_t d) {  // a gauge up or down
    c.store(c.load(std::memory_order_relaxed) + std::uint64_t(d), std::memory_order_relaxed);
  }
  void refuse(RefuseReason r) { bump(refused[static_cast<std::size_t>(r)]); }
};

// The storage writer thread's figures (it alone writes them; anyone reads).
struct StorageCounters {
  std::atomic<std::uint64_t> commits{0};  // rounds of batches written
  std::atomic<std::uint64_t> fsyncs{0};   // WAL syncs
  std::atomic<std::uint64_t> bytes{0};    // batch bytes written
  Histogram commit_us;                    // a round: its writes and, when it syncs, the sync
};

struct BrokerStats {
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::unique_ptr<ShardCounters[]> shards;
  unsigned shard_count = 0;
  // Highest values seen, sampled by shard 0 every tick (100 ms; the heap every second).
  std::atomic<std::uint64_t> clients_maximum{0};
  std::atomic<std::uint64_t> heap_maximum{0};
  StorageCounters storage;
  unsigned listener_count = 0;

  void init(unsigned n, unsigned listeners = 0) {
    shards.reset(new ShardCounters[n]);
    shard_count = n;
    listener_count = listeners;
    for (unsigned i = 0; i < n; ++i)
      shards[i].accepted.reset(new std::atomic<std::uint64_t>[listeners] {});
  }
  static void raise(std::atomic<std::uint64_t>& max, std::uint64_t v) {
    if (v > max.load(std::memory_order_relaxed)) max.store(v, std::memory_order_relaxed);
  }
  // Persistent sessions without a connection (each shard's pair is written by that shard).
  std::uint64_t sessions_offline(unsigned shard) const {
    const ShardCounters& c = shards[shard];
    const std::uint64_t all = c.sessions.load(std::memory_order_relaxed);
    const std::uint64_t online = c.sessions_online.load(std::memory_order_relaxed);
    return all > online ? all - online : 0;
  }
  std::uint64_t sessions_offline() const {
    std::uint64_t s = 0;
    for (unsigned i = 0; i < shard_count; ++i)
      s += sessions_offline(i);
    return s;
  }
  std::uint64_t accepted_total() const {
    std::uint64_t s = 0;
    for (unsigned l = 0; l < listener_count; ++l)
      s += accepted_total(l);
    return s;
  }
  std::uint64_t accepted_total(unsigned listener) const {
    std::uint64_t s = 0;
    for (unsigned i = 0; i < shard_count; ++i)
      s += shards[i].accepted[listener].load(std::memory_order_relaxed);
    return s;
  }
  std::uint64_t sum(std::atomic<std::uint64_t> ShardCounters::*field) const {
    std::uint64_t s = 0;
    for (unsigned i = 0; i < shard_count; ++i)
      s += (shards[i].*field).load(std::memory_order_relaxed);
    return s;
  }
  std::uint64_t sum(std::array<std::atomic<std::uint64_t>, 3> ShardCounters::*field) const {
    std::uint64_t s = 0;
    for (unsigned i = 0; i < shard_count; ++i)
      for (const auto& c : shards[i].*field)
        s += c.load(std::memory_order_relaxed);
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
