#include "broker/metrics/metrics_exposition.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "broker/config/config.hpp"
#include "broker/listener/listener.hpp"
#include "broker/mesh/shard_mesh.hpp"
#include "broker/metrics/broker_stats.hpp"
#include "broker/metrics/heap_usage.hpp"
#include "broker/metrics/prometheus_text.hpp"

namespace shardmq::broker {

namespace {

// Latencies are recorded in microseconds and exported in seconds; buckets up to 2^25 us
// (33.5 s), then +Inf.
constexpr double kMicros = 1e6;
constexpr std::size_t kLastLatencyBucket = 25;

std::uint64_t load(const std::atomic<std::uint64_t>& a) {
  return a.load(std::memory_order_relaxed);
}

double uptime_seconds(const BrokerStats& stats) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - stats.started).count();
}

// One family with a sample per shard.
void per_shard(PrometheusText& out, const BrokerStats& stats, std::string_view name,
               std::string_view type, std::string_view help,
               std::atomic<std::uint64_t> ShardCounters::*field) {
  out.family(name, type, help);
  for (unsigned i = 0; i < stats.shard_count; ++i) {
    const std::string shard = std::to_string(i);
    out.sample(name, {{"shard", shard}}, load(stats.shards[i].*field));
  }
}

// One family with a sample per shard and QoS.
void per_shard_qos(PrometheusText& out, const BrokerStats& stats, std::string_view name,
                   std::string_view help,
                   std::array<std::atomic<std::uint64_t>, 3> ShardCounters::*field) {
  static constexpr const char* kQos[3] = {"0", "1", "2"};
  out.family(name, "counter", help);
  for (unsigned i = 0; i < stats.shard_count; ++i) {
    const std::string shard = std::to_string(i);
    for (std::size_t q = 0; q < 3; ++q)
      out.sample(name, {{"shard", shard}, {"qos", kQos[q]}}, load((stats.shards[i].*field)[q]));
  }
}

void one(PrometheusText& out, std::string_view name, std::string_view type, std::string_view help,
         std::uint64_t value) {
  out.family(name, type, help);
  out.sample(name, {}, value);
}

}  // namespace

std::string render_metrics(const MetricsSources& s) {
  const BrokerStats& stats = s.stats;
  std::string text;
  text.reserve(8192 + stats.shard_count * 6144);
  PrometheusText out(text);

  out.family("shardmq_build_info", "gauge", "The running shardmq's version (the value is 1).");
  out.sample("shardmq_build_info", {{"version", SHARDMQ_VERSION}}, std::uint64_t(1));
  out.family("shardmq_uptime_seconds", "gauge", "Seconds since the broker started.");
  out.sample("shardmq_uptime_seconds", {}, uptime_seconds(stats));
  one(out, "shardmq_shards", "gauge", "Shards (threads, one event loop each).", stats.shard_count);

  // Connections.
  per_shard(out, stats, "shardmq_connections", "gauge",
            "Open client connections (sockets), by the shard that accepted them.",
            &ShardCounters::connections_open);
  out.family("shardmq_connections_accepted_total", "counter", "Connections accepted, by listener.");
  for (unsigned l = 0; l < stats.listener_count && l < s.listeners.size(); ++l)
    out.sample("shardmq_connections_accepted_total",
               {{"listener", listener_url(s.listeners[l]->config)}}, stats.accepted_total(l));
  out.family("shardmq_connections_refused_total", "counter",
             "Connections refused at accept or CONNECT, by reason.");
  for (std::size_t r = 0; r < kRefuseReasons; ++r) {
    std::uint64_t n = 0;
    for (unsigned i = 0; i < stats.shard_count; ++i)
      n += load(stats.shards[i].refused[r]);
    out.sample("shardmq_connections_refused_total", {{"reason", kRefuseReasonNames[r]}}, n);
  }
  out.family("shardmq_auth_total", "counter", "Login verdicts of the authenticator, by result.");
  out.sample("shardmq_auth_total", {{"result", "success"}},
             stats.sum(&ShardCounters::auth_success));
  out.sample("shardmq_auth_total", {{"result", "failure"}},
             stats.sum(&ShardCounters::auth_failure));
  out.family("shardmq_sessions", "gauge",
             "Sessions, by state: with a connection, or persistent and waiting for one.");
  out.sample("shardmq_sessions", {{"state", "connected"}},
             stats.sum(&ShardCounters::sessions_online));
  out.sample("shardmq_sessions", {{"state", "offline"}}, stats.sessions_offline());
  one(out, "shardmq_sessions_expired_total", "counter",
      "Sessions ended because their Session Expiry Interval passed while offline.",
      stats.sum(&ShardCounters::sessions_expired));
  one(out, "shardmq_subscriptions", "gauge", "Subscriptions held by sessions.",
      stats.sum(&ShardCounters::subscriptions));
  // Every shard holds a replica of all retained messages: shard 0's is the figure.
  one(out, "shardmq_retained_messages", "gauge", "Retained messages held.",
      stats.shard_count ? load(stats.shards[0].retained_messages) : 0);
  one(out, "shardmq_retained_bytes", "gauge",
      "Bytes of the retained messages' topics and payloads.",
      stats.shard_count ? load(stats.shards[0].retained_bytes) : 0);

  // Messages.
  per_shard_qos(out, stats, "shardmq_messages_received_total",
                "PUBLISH packets received from clients, by the shard that read them and QoS.",
                &ShardCounters::publish_received);
  per_shard_qos(out, stats, "shardmq_messages_sent_total",
                "PUBLISH packets written to clients, by the shard that wrote them and QoS.",
                &ShardCounters::publish_sent);
  per_shard_qos(out, stats, "shardmq_message_payload_bytes_received_total",
                "Payload bytes of the PUBLISH packets received, by shard and QoS.",
                &ShardCounters::payload_bytes_received);
  per_shard_qos(out, stats, "shardmq_message_payload_bytes_sent_total",
                "Payload bytes of the PUBLISH packets written, by shard and QoS.",
                &ShardCounters::payload_bytes_sent);
  per_shard(out, stats, "shardmq_packets_received_total", "counter",
            "MQTT packets of every type received, by shard.", &ShardCounters::packets_received);
  per_shard(out, stats, "shardmq_packets_sent_total", "counter",
            "MQTT packets of every type written, by shard.", &ShardCounters::packets_sent);
  per_shard(out, stats, "shardmq_bytes_received_total", "counter",
            "Bytes read from client sockets (after TLS and WebSocket: MQTT bytes).",
            &ShardCounters::bytes_received);
  per_shard(out, stats, "shardmq_bytes_sent_total", "counter", "Bytes written to client sockets.",
            &ShardCounters::bytes_sent);
  out.family("shardmq_messages_dropped_total", "counter", "Messages not delivered, by reason.");
  struct Drop {
    const char* reason;
    std::atomic<std::uint64_t> ShardCounters::*field;
  };
  for (const Drop& d :
       {Drop{"queue_full", &ShardCounters::dropped_queue_full},
        Drop{"too_large", &ShardCounters::messages_too_large},
        Drop{"expired", &ShardCounters::messages_expired}, Drop{"acl", &ShardCounters::dropped_acl},
        Drop{"slow_consumer", &ShardCounters::dropped_slow_consumer}})
    out.sample("shardmq_messages_dropped_total", {{"reason", d.reason}}, stats.sum(d.field));

  per_shard(out, stats, "shardmq_messages_queued", "gauge",
            "QoS 1/2 messages waiting in sessions' queues (for the window or the client), by "
            "the sessions' home shard; one per session holding it.",
            &ShardCounters::messages_queued);
  per_shard(out, stats, "shardmq_messages_inflight", "gauge",
            "QoS 1/2 messages sent and not yet acknowledged, by the sessions' home shard.",
            &ShardCounters::messages_inflight);

  // Shards: what waits for each, and how long deliveries take.
  out.family("shardmq_ring_backlog", "gauge",
             "Envelopes (publishes, session work) waiting in the rings into each shard.");
  for (unsigned i = 0; i < stats.shard_count; ++i)
    out.sample("shardmq_ring_backlog", {{"shard", std::to_string(i)}},
               std::uint64_t(s.mesh.backlog_into(i)));
  out.family("shardmq_publish_delivery_seconds", "histogram",
             "Time from a PUBLISH's arrival to its delivery writes on each shard it reaches.");
  for (unsigned i = 0; i < stats.shard_count; ++i) {
    Histogram::Snapshot b{};
    std::uint64_t sum = 0;
    stats.shards[i].delivery_latency_us.add_to(b, sum);
    out.histogram("shardmq_publish_delivery_seconds", {{"shard", std::to_string(i)}}, b, sum,
                  kMicros, kLastLatencyBucket);
  }

  const std::uint64_t heap = heap_bytes_in_use();
  one(out, "shardmq_heap_bytes", "gauge", "Bytes of heap memory in use (the allocator's count).",
      heap);
  one(out, "shardmq_heap_max_bytes", "gauge",
      "The most heap memory in use seen (sampled every second and when read).",
      std::max(heap, load(stats.heap_maximum)));

  // Storage (zero without [storage] durability).
  const StorageCounters& st = stats.storage;
  one(out, "shardmq_storage_commits_total", "counter",
      "Rounds of batches the storage writer wrote to RocksDB.", load(st.commits));
  one(out, "shardmq_storage_fsyncs_total", "counter", "RocksDB WAL syncs.", load(st.fsyncs));
  one(out, "shardmq_storage_bytes_total", "counter", "Bytes of batches written to RocksDB.",
      load(st.bytes));
  out.family("shardmq_storage_commit_seconds", "histogram",
             "Time a storage round took: its writes and, when it synced, the WAL sync.");
  {
    Histogram::Snapshot b{};
    std::uint64_t sum = 0;
    st.commit_us.add_to(b, sum);
    out.histogram("shardmq_storage_commit_seconds", {}, b, sum, kMicros, kLastLatencyBucket);
  }
  return text;
}

namespace {

void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

std::string render_status_json(const MetricsSources& s, const Config& c,
                               std::string_view io_backend) {
  std::string out = "{\"version\":";
  json_string(out, SHARDMQ_VERSION);
  fmt::format_to(std::back_inserter(out),
                 ",\"uptime_seconds\":{:.0f},\"shards\":{},\"io\":", uptime_seconds(s.stats),
                 s.stats.shard_count);
  json_string(out, io_backend);
  out += ",\"listeners\":[";
  for (std::size_t i = 0; i < s.listeners.size(); ++i) {
    if (i) out += ',';
    json_string(out, listener_url(s.listeners[i]->config));
  }
  out += "],\"config\":{";
  bool first = true;
  auto key = [&](std::string_view k) {
    if (!first) out += ',';
    first = false;
    json_string(out, k);
    out += ':';
  };
  auto number = [&](std::string_view k, std::uint64_t v) {
    key(k);
    fmt::format_to(std::back_inserter(out), "{}", v);
  };
  auto text = [&](std::string_view k, std::string_view v) {
    key(k);
    json_string(out, v);
  };
  number("max_connections", c.max_connections);
  number("max_connect_rate", c.max_connect_rate);
  number("max_packet_size", c.max_packet_size);
  number("max_inflight", c.max_inflight);
  number("max_queued_messages", c.max_queued_messages);
  text("durability", durability_name(c.durability));
  text("storage_path", c.durability == Config::Durability::none ? "" : c.storage_path);
  text("auth", !c.auth.password_file.empty() ? "password_file"
               : c.authenticates()           ? "anonymous refused"
                                             : "anonymous");
  text("acl", c.auth.acl_file.empty() ? "none" : "acl_file");
  number("sys_interval_s", c.sys_interval_s);
  text("shared_strategy", shared_strategy_name(c.shared_strategy));
  out += "}}";
  return out;
}

}  // namespace shardmq::broker
