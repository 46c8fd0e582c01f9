#include "broker/sys/sys_topics.hpp"

#include <chrono>
#include <cmath>
#include <string>

#include "broker/log.hpp"
#include "broker/message/local_publish.hpp"
#include "broker/retained/retained_store.hpp"
#include "broker/routing/router.hpp"

namespace shardmq::broker {

SysTopics::SysTopics(ShardContext& ctx, BrokerStats& stats, Router& router, RetainedStore& retained)
    : ctx_(ctx), stats_(stats), router_(router), retained_(retained) {}

void SysTopics::on_tick() {
  if (ctx_.id != 0 || !ctx_.config.sys_interval_s) return;
  if (started_ && ctx_.tick < next_tick_) return;
  started_ = true;
  publish();
}

void SysTopics::publish() {
  const unsigned interval_s = ctx_.config.sys_interval_s;
  next_tick_ = ctx_.tick + std::uint64_t(interval_s) * 10;
  auto now = std::chrono::steady_clock::now();
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(now - stats_.started).count();
  std::uint64_t connected = stats_.sum(&ShardCounters::clients_connected);
  std::uint64_t maximum = stats_.clients_maximum.load(std::memory_order_relaxed);
  if (connected > maximum) {
    maximum = connected;
    stats_.clients_maximum.store(maximum, std::memory_order_relaxed);
  }
  std::uint64_t received = stats_.sum(&ShardCounters::messages_received);
  std::uint64_t sent = stats_.sum(&ShardCounters::messages_sent);
  std::uint64_t bytes_received = stats_.sum(&ShardCounters::bytes_received);
  std::uint64_t bytes_sent = stats_.sum(&ShardCounters::bytes_sent);

  // Per-minute load: exponentially weighted rates, as Mosquitto reports them.
  double interval = double(interval_s);
  double alpha = 1.0 - std::exp(-interval / 60.0);
  auto rate = [&](double& avg, std::uint64_t now_total, std::uint64_t& last) {
    double per_min = double(now_total - last) * 60.0 / interval;
    last = now_total;
    avg += alpha * (per_min - avg);
    return avg;
  };

  auto pub = [&](std::string_view topic, std::string value) {
    LocalPublish p;
    p.topic = topic;
    p.payload = value;
    p.retain = true;
    router_.route(p, nullptr);
  };
  pub("$SYS/broker/version", fmt::format("shardmq version {}", SHARDMQ_VERSION));
  pub("$SYS/broker/uptime", fmt::format("{} seconds", uptime));
  pub("$SYS/broker/clients/connected", std::to_string(connected));
  pub("$SYS/broker/clients/active", std::to_string(connected));
  pub("$SYS/broker/clients/maximum", std::to_string(maximum));
  pub("$SYS/broker/clients/total", std::to_string(stats_.sum(&ShardCounters::clients_total)));
  pub("$SYS/broker/messages/received", std::to_string(received));
  pub("$SYS/broker/messages/sent", std::to_string(sent));
  pub("$SYS/broker/messages/dropped", std::to_string(stats_.sum(&ShardCounters::messages_dropped)));
  pub("$SYS/broker/messages/too large",
      std::to_string(stats_.sum(&ShardCounters::messages_too_large)));
  pub("$SYS/broker/bytes/received", std::to_string(bytes_received));
  pub("$SYS/broker/bytes/sent", std::to_string(bytes_sent));
  pub("$SYS/broker/subscriptions/count", std::to_string(stats_.sum(&ShardCounters::subscriptions)));
  pub("$SYS/broker/retained messages/count", std::to_string(retained_.size()));
  pub("$SYS/broker/protocol errors", std::to_string(stats_.sum(&ShardCounters::protocol_errors)));
  pub("$SYS/broker/publish/throttled",
      std::to_string(stats_.sum(&ShardCounters::publish_throttled)));
  pub("$SYS/broker/clients/connect rate refused",
      std::to_string(stats_.sum(&ShardCounters::connect_rate_refused)));
  if (load_started_) {
    pub("$SYS/broker/load/messages/received/1min",
        fmt::format("{:.2f}", rate(load_.received, received, load_.last_received)));
    pub("$SYS/broker/load/messages/sent/1min",
        fmt::format("{:.2f}", rate(load_.sent, sent, load_.last_sent)));
    pub("$SYS/broker/load/bytes/received/1min",
        fmt::format("{:.2f}",
                    rate(load_.bytes_received, bytes_received, load_.last_bytes_received)));
    pub("$SYS/broker/load/bytes/sent/1min",
        fmt::format("{:.2f}", rate(load_.bytes_sent, bytes_sent, load_.last_bytes_sent)));
  } else {
    load_started_ = true;
    load_.last_received = received;
    load_.last_sent = sent;
    load_.last_bytes_received = bytes_received;
    load_.last_bytes_sent = bytes_sent;
  }
}

}  // namespace shardmq::broker
