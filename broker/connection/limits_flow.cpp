// What the configured limits refuse or slow down on a client's connection: a CONNECT over
// the connect rate of its source address or with a will over the size or retain limits, a
// PUBLISH over the topic, size or retain limits, and publishers over their rate, whose
// reads pause until their buckets refill (nothing is lost). Each limit that is switched off
// costs the message path nothing beyond ClientProtocol::publish_limits_.
#include <algorithm>

#include "broker/connection/client_protocol.hpp"
#include "broker/connection/connection_table.hpp"
#include "broker/connection/topic_limits.hpp"
#include "broker/log.hpp"

namespace shardmq::broker {

using core::ProtocolVersion;
using core::ReasonCode;
using CloseKind = ConnectionTable::CloseKind;

namespace {

std::size_t varint_size(std::size_t n) {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

// The PUBLISH packet's size on the wire, as limits.max_publish_bandwidth counts it.
std::size_t publish_size(const core::Publish& p, ProtocolVersion v) {
  std::size_t rest =
      2 + p.topic.size() + (p.qos != core::QoS::AtMostOnce ? 2 : 0) + p.payload.size();
  if (v == ProtocolVersion::v5)
    rest += varint_size(p.properties.raw.size()) + p.properties.raw.size();
  return 1 + varint_size(rest) + rest;
}

}  // namespace

void ClientProtocol::settings_changed() {
  const Config& c = config_;
  limits_topics_ = c.max_topic_length || c.max_topic_levels;
  publish_limits_ = limits_topics_ || c.message_size_limit || !c.retain_available ||
                    c.max_publish_rate || c.max_publish_bandwidth;
  connect_limits_ = c.message_size_limit || !c.retain_available || c.max_connect_rate;
}

std::string ClientProtocol::source_address(const Connection& c) const {
  // Behind a load balancer the PROXY header names the client; the socket, the balancer.
  std::string proxied = c.layer ? c.layer->peer_source_address() : std::string();
  return proxied.empty() ? std::string(connections_.peer_address(c)) : proxied;
}

bool ClientProtocol::connect_within_limits(Connection& c, const core::Connect& p) {
  const Config& config = config_;
  c.version = p.version;  // the refusal is in the client's protocol level
  const bool v5 = p.version == ProtocolVersion::v5;
  auto refuse = [&](ReasonCode v5_reason, std::optional<core::ConnectReturnCode> v311_code,
                    std::string_view why) {
    counters_.refuse(v5_reason == ReasonCode::ConnectionRateExceeded ? RefuseReason::connect_rate
                                                                     : RefuseReason::protocol);
    if (v5 || v311_code) {
      core::ConnAck ack;
      ack.reason_code = v5 ? v5_reason : static_cast<ReasonCode>(*v311_code);
      connections_.send_packet(c, ack);
    }
    log_info("refusing CONNECT of '{}': {}", p.client_id, why);
    connections_.close(c, CloseKind::graceful);
    return false;
  };
  if (config.max_connect_rate) {
    const std::string address = source_address(c);
    const std::uint64_t now_ms = ctx_.tick * ShardContext::kTickMs;
    if (address != "unknown" &&
        !connect_rate_.allow(address, now_ms, config.max_connect_rate, config.max_connect_burst)) {
      ShardCounters::bump(counters_.connect_rate_refused);
      // 3.1.1 has no code for it: Server unavailable says "not now".
      return refuse(ReasonCode::ConnectionRateExceeded, core::ConnectReturnCode::ServerUnavailable,
                    fmt::format("{} is over limits.max_connect_rate", address));
    }
  }
  if (!p.will) return true;
  // As Mosquitto 2.0 answers: 3.1.1 closes without a CONNACK for a retained will.
  if (p.will->retain && !config.retain_available)
    return refuse(ReasonCode::RetainNotSupported, std::nullopt,
                  "retained will, and limits.retain_available is false");
  if (config.message_size_limit && p.will->payload.size() > config.message_size_limit)
    return refuse(ReasonCode::PacketTooLarge, core::ConnectReturnCode::NotAuthorized,
                  "will payload over limits.message_size_limit");
  return true;
}

bool ClientProtocol::publish_within_limits(Connection& c, const core::Publish& p,
                                           std::string_view topic) {
  const Config& config = config_;
  const auto qos = static_cast<std::uint8_t>(p.qos);
  // As Mosquitto 2.0: a retained PUBLISH (an empty one too) ends the connection, with
  // DISCONNECT 0x9A in MQTT 5; 3.1.1 has no way to say it.
  if (p.retain && !config.retain_available) {
    log_info("closing client '{}': retained PUBLISH, and limits.retain_available is false",
             c.client_id.view());
    connections_.send_disconnect(c, ReasonCode::RetainNotSupported);
    connections_.close(c, CloseKind::graceful);
    return false;
  }
  if (config.max_publish_rate || config.max_publish_bandwidth) charge_publish(c, p);
  if (limits_topics_ && !topic_within_limits(topic, config)) {
    refuse_publish(c, p.packet_id, qos, ReasonCode::TopicNameInvalid);
    return false;
  }
  if (config.message_size_limit && p.payload.size() > config.message_size_limit) {
    log_debug("not routing a PUBLISH of {} bytes from '{}' to '{}': over message_size_limit",
              p.payload.size(), c.client_id.view(), topic);
    // Mosquitto 2.0 says 0x95 (Packet too large), which MQTT 5 does not allow in PUBACK or
    // PUBREC (strict clients take it for a malformed packet): 0x97 is the code for an
    // administrative limit.
    refuse_publish(c, p.packet_id, qos, ReasonCode::QuotaExceeded);
    return false;
  }
  return true;
}

// The PUBLISH is handled either way; when it leaves a bucket in debt the connection reads
// nothing more until the debt is paid (the way EMQX and HiveMQ slow a publisher down).
void ClientProtocol::charge_publish(Connection& c, const core::Publish& p) {
  const Config& config = config_;
  std::unique_ptr<PublishThrottle>& t = c.inbound_qos().throttle;
  if (!t) {
    t = std::make_unique<PublishThrottle>();
    t->connection = &c;
  }
  const std::uint64_t now_ms = ctx_.tick * ShardContext::kTickMs;
  std::uint64_t wait_ms = 0;
  if (config.max_publish_rate)
    wait_ms = t->packets.take(
        1, now_ms, config.max_publish_rate,
        TokenBucket::burst_or_default(config.max_publish_rate, config.max_publish_burst));
  if (config.max_publish_bandwidth)
    wait_ms = std::max(
        wait_ms, t->bytes.take(publish_size(p, c.version), now_ms, config.max_publish_bandwidth,
                               TokenBucket::burst_or_default(config.max_publish_bandwidth,
                                                             config.max_publish_bandwidth_burst)));
  if (wait_ms == 0) return;
  if (!c.throttled) ShardCounters::bump(counters_.publish_throttled);
  c.throttled = true;
  c.home_paused = true;  // what arrives meanwhile is kept, as while waiting for an answer
  throttle_timers_.schedule(t->resume, ctx_.tick + ShardContext::ms_to_ticks(wait_ms));
  connections_.update_receive_pause(c);
}

void ClientProtocol::on_tick() {
  throttle_timers_.advance(ctx_.tick, [this](io::TimerNode& n) {
    Connection* c = PublishThrottle::from_timer(&n)->connection;
    unthrottled_.emplace_back(c, c->serial);
  });
}

// At the end of the turn rather than in the tick: what the client sent meanwhile is handled
// as if it had just arrived.
void ClientProtocol::resume_throttled() {
  auto list = std::move(unthrottled_);
  unthrottled_.clear();
  for (auto [c, serial] : list) {
    if (connections_.find(serial) != c || c->state == Connection::State::closing) continue;
    c->throttled = false;
    c->home_paused = false;
    consume_stashed(*c);
    connections_.update_receive_pause(*c);
  }
}

}  // namespace shardmq::broker
