#include "broker/sys/sys_topics.hpp"

#include <fmt/format.h>

#include <string>

#include "broker/message/local_publish.hpp"
#include "broker/metrics/heap_usage.hpp"
#include "broker/retained/retained_store.hpp"
#include "broker/routing/router.hpp"

namespace shardmq::broker {

SysTopics::SysTopics(ShardContext& ctx, BrokerStats& stats, Router& router, RetainedStore& retained)
    : ctx_(ctx), stats_(stats), router_(router), retained_(retained) {}

void SysTopics::on_tick() {
  if (ctx_.id != 0) return;
  // Maxima between publishes: a peak shorter than a tick can be missed (documented).
  BrokerStats::raise(stats_.clients_maximum, stats_.sum(&ShardCounters::clients_connected));
  // The heap once a second: jemalloc refreshes its statistics across every arena for it
  // (about 100,000 instructions and its locks), too much for every tick.
  if (ctx_.tick % kHeapSampleTicks == 0)
    BrokerStats::raise(stats_.heap_maximum, heap_bytes_in_use());
  if (!ctx_.config.sys_interval_s) return;
  if (started_ && ctx_.tick < next_tick_) return;
  started_ = true;
  publish();
}

void SysTopics::publish() {
  next_tick_ = ctx_.tick + std::uint64_t(ctx_.config.sys_interval_s) * 1000 / ShardContext::kTickMs;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed_s = std::chrono::duration<double>(now - last_publish_).count();
  last_publish_ = now;
  const BrokerStats& s = stats_;

  auto pub = [&](std::string_view topic, std::string value) {
    LocalPublish p;
    p.topic = topic;
    p.payload = value;
    p.retain = true;
    router_.route(p, nullptr);
  };
  auto num = [&](std::string_view topic, std::uint64_t v) { pub(topic, std::to_string(v)); };

  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(now - s.started).count();
  pub("$SYS/broker/version", fmt::format("shardmq version {}", SHARDMQ_VERSION));
  pub("$SYS/broker/uptime", fmt::format("{} seconds", uptime));

  // Clients: connected ones, and persistent sessions waiting for theirs. A maximum is never
  // below the current figure published with it.
  const std::uint64_t connected = s.sum(&ShardCounters::clients_connected);
  const std::uint64_t heap = heap_bytes_in_use();
  BrokerStats::raise(stats_.clients_maximum, connected);
  BrokerStats::raise(stats_.heap_maximum, heap);
  const std::uint64_t disconnected = s.sessions_offline();
  num("$SYS/broker/clients/connected", connected);
  num("$SYS/broker/clients/disconnected", disconnected);
  num("$SYS/broker/clients/total", connected + disconnected);
  num("$SYS/broker/clients/maximum", s.clients_maximum.load(std::memory_order_relaxed));
  num("$SYS/broker/clients/expired", s.sum(&ShardCounters::sessions_expired));
  num("$SYS/broker/clients/active", connected);  // Mosquitto's older names
  num("$SYS/broker/clients/inactive", disconnected);

  // Messages: MQTT packets of every type; publish/: PUBLISH packets only.
  const std::uint64_t packets_received = s.sum(&ShardCounters::packets_received);
  const std::uint64_t packets_sent = s.sum(&ShardCounters::packets_sent);
  const std::uint64_t bytes_received = s.sum(&ShardCounters::bytes_received);
  const std::uint64_t bytes_sent = s.sum(&ShardCounters::bytes_sent);
  const std::uint64_t publish_received = s.sum(&ShardCounters::publish_received);
  const std::uint64_t publish_sent = s.sum(&ShardCounters::publish_sent);
  const std::uint64_t dropped = s.sum(&ShardCounters::messages_dropped);
  const std::uint64_t queued = s.sum(&ShardCounters::messages_queued);
  const std::uint64_t inflight = s.sum(&ShardCounters::messages_inflight);
  num("$SYS/broker/messages/received", packets_received);
  num("$SYS/broker/messages/sent", packets_sent);
  num("$SYS/broker/messages/stored", retained_.size() + queued + inflight);
  num("$SYS/broker/store/messages/count", retained_.size() + queued + inflight);
  num("$SYS/broker/messages/inflight", inflight);
  num("$SYS/broker/messages/dropped", dropped);
  num("$SYS/broker/messages/too large", s.sum(&ShardCounters::messages_too_large));
  num("$SYS/broker/bytes/received", bytes_received);
  num("$SYS/broker/bytes/sent", bytes_sent);
  num("$SYS/broker/publish/messages/received", publish_received);
  num("$SYS/broker/publish/messages/sent", publish_sent);
  num("$SYS/broker/publish/messages/dropped", dropped);
  num("$SYS/broker/publish/bytes/received", s.sum(&ShardCounters::payload_bytes_received));
  num("$SYS/broker/publish/bytes/sent", s.sum(&ShardCounters::payload_bytes_sent));
  num("$SYS/broker/subscriptions/count", s.sum(&ShardCounters::subscriptions));
  num("$SYS/broker/retained messages/count", retained_.size());
  num("$SYS/broker/heap/current", heap);
  num("$SYS/broker/heap/maximum", s.heap_maximum.load(std::memory_order_relaxed));
  num("$SYS/broker/protocol errors", s.sum(&ShardCounters::protocol_errors));
  num("$SYS/broker/publish/throttled", s.sum(&ShardCounters::publish_throttled));
  num("$SYS/broker/clients/connect rate refused", s.sum(&ShardCounters::connect_rate_refused));

  // Load: per minute, averaged over 1, 5 and 15 minutes (from the second publish on).
  const std::uint64_t connections = s.sum(&ShardCounters::clients_total);
  const std::uint64_t sockets = s.accepted_total();
  struct Figure {
    const char* topic;
    LoadAverage& load;
    std::uint64_t total;
  };
  for (const Figure& f : {Figure{"messages/received", load_.packets_received, packets_received},
                          Figure{"messages/sent", load_.packets_sent, packets_sent},
                          Figure{"bytes/received", load_.bytes_received, bytes_received},
                          Figure{"bytes/sent", load_.bytes_sent, bytes_sent},
                          Figure{"publish/received", load_.publish_received, publish_received},
                          Figure{"publish/sent", load_.publish_sent, publish_sent},
                          Figure{"publish/dropped", load_.publish_dropped, dropped},
                          Figure{"connections", load_.connections, connections},
                          Figure{"sockets", load_.sockets, sockets}}) {
    const bool had = f.load.ready();
    f.load.update(f.total, elapsed_s);
    if (!had) continue;
    for (std::size_t i = 0; i < LoadAverage::kNames.size(); ++i)
      pub(fmt::format("$SYS/broker/load/{}/{}", f.topic, LoadAverage::kNames[i]),
          fmt::format("{:.2f}", f.load.per_minute(i)));
  }
}

}  // namespace shardmq::broker
