#include "broker/connection/connection_table.hpp"

#include <algorithm>
#include <optional>

#include "broker/log.hpp"
#include "core/encoder.hpp"
#include "core/wire_writer.hpp"

namespace shardmq::broker {

ConnectionTable::ConnectionTable(ShardContext& ctx,
                                 const std::vector<std::unique_ptr<ListenerRuntime>>& listeners)
    : ctx_(ctx),
      config_(ctx.config),
      counters_(ctx.counters),
      listeners_(listeners),
      listener_connections_(listeners.size(), 0),
      keep_peers_(ctx.config.authenticates()) {}

Connection* ConnectionTable::accept(std::uint32_t listener, io::SocketId socket,
                                    const io::PeerAddress& peer) {
  // Limits are per broker and per listener; each shard takes its share of them.
  const Config& config = config_;
  std::uint32_t listener_max =
      listener < listeners_.size() ? listeners_[listener]->config.max_connections : 0;
  if ((config.max_connections && connections_.size() * ctx_.shards >= config.max_connections) ||
      (listener_max &&
       std::size_t(listener_connections_[listener]) * ctx_.shards >= listener_max)) {
    counters_.refuse(RefuseReason::max_connections);
    loop_->close(socket);
    return nullptr;
  }
  Connection* c = slab_.create();
  c->socket = socket;
  c->serial = next_serial_++;
  if (c->serial == 0) c->serial = next_serial_++;
  c->last_rx_tick = ctx_.tick;
  c->listener = static_cast<std::uint16_t>(listener);
  if (listener < listeners_.size()) {
    c->layer = listeners_[listener]->make_layers();
    ++listener_connections_[listener];
    if (counters_.accepted) ShardCounters::bump(counters_.accepted[listener]);
  }
  connections_.insert(c);
  ShardCounters::set(counters_.connections_open, connections_.size());
  // The address is kept until CONNECT for the limits and the authenticator, and for the
  // connect log line.
  if (keep_peers_ || config.max_connect_rate || log_level() <= LogLevel::info)
    peers_.emplace(c->serial, peer.host());
  loop_->start(socket, c);
  timers_.schedule(c->timer, ctx_.tick + ShardContext::ms_to_ticks(config.connect_timeout_ms));
  return c;
}

std::string_view ConnectionTable::peer_address(const Connection& c) const {
  auto it = peers_.find(c.serial);
  return it == peers_.end() ? std::string_view() : std::string_view(it->second);
}

void ConnectionTable::forget_peer_address(const Connection& c) {
  if (!peers_.empty()) peers_.erase(c.serial);
}

// ---- output ----

bool ConnectionTable::send_packet(Connection& c, const core::Packet& p) {
  std::size_t n = core::encoded_size(p, c.version);
  auto r = core::encode(p, c.version, {c.out.pending().reserve(n), n});
  if (!r) {
    log_error("cannot encode {}: {}", core::packet_type_name(core::packet_type(p)),
              core::encode_error_name(r.error()));
    return false;
  }
  c.out.pending().grow(*r);
  ShardCounters::bump(counters_.packets_sent);
  schedule_flush(c);
  return true;
}

void ConnectionTable::note_close_reason(const Connection& c, core::ReasonCode reason) {
  if (log_level() <= LogLevel::info && c.state != Connection::State::closing)
    close_reasons_.insert_or_assign(c.serial, reason);
}

void ConnectionTable::send_disconnect(Connection& c, core::ReasonCode reason,
                                      std::string_view why) {
  note_close_reason(c, reason);
  if (c.version != core::ProtocolVersion::v5) return;
  core::Disconnect d;
  d.reason_code = reason;
  // A Reason String may go in DISCONNECT whatever Request Problem Information said, but not
  // past the client's Maximum Packet Size (MQTT 5 §3.14.2.2.3).
  if (!why.empty()) d.properties.reason_string = why;
  if (c.max_packet_out && core::encoded_size(d, c.version) > c.max_packet_out)
    d.properties.reason_string.reset();
  send_packet(c, d);
}

bool ConnectionTable::write_publish(Connection& c, std::string_view topic,
                                    std::string_view properties, std::string_view payload,
                                    std::uint8_t qos, std::uint16_t packet_id, bool dup,
                                    bool retain, std::uint32_t subscription_id) {
  const bool v5 = c.version == core::ProtocolVersion::v5;
  // Only MQTT 5 clients that allow Topic Aliases pay for them: the alias replaces the topic
  // once the client knows it (docs/mqtt_behaviour.md).
  OutboundAliases::Choice alias{0, false, 0};
  std::string_view topic_field = topic;
  if (c.alias_out_max) [[unlikely]] {
    alias = c.topic_aliases().out.choose(topic);
    if (alias.known) topic_field = {};
  }
  std::size_t props_content = 0, props_block = 0;
  if (v5) {
    props_content = properties.size() +
                    (subscription_id ? 1 + core::varint_size(subscription_id) : 0) +
                    (alias.alias ? 3 : 0);
    props_block = core::varint_size(static_cast<std::uint32_t>(props_content)) + props_content;
  }
  std::size_t remaining = 2 + topic_field.size() + (qos ? 2 : 0) + props_block + payload.size();
  std::size_t total = 1 + core::varint_size(static_cast<std::uint32_t>(remaining)) + remaining;
  if (c.max_packet_out && total > c.max_packet_out) [[unlikely]] {
    // MQTT 5 §3.1.2.11.4: never sent, never truncated. A QoS 1/2 one is finished with its
    // session at the end of the turn, as if acknowledged, so it holds no place in the window.
    ShardCounters::bump(counters_.messages_dropped);
    ShardCounters::bump(counters_.messages_too_large);
    if (qos) too_large_.emplace_back(c.serial, packet_id);
    return false;
  }
  if (qos == 0 && c.out.queued() + total > config_.max_outbound_bytes) {
    ShardCounters::bump(counters_.messages_dropped);  // slow subscriber: QoS 0 is dropped
    ShardCounters::bump(counters_.dropped_slow_consumer);
    return false;
  }
  core::WireWriter w(c.out.pending().reserve(total));
  w.u8(static_cast<std::uint8_t>(0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 1 : 0)));
  w.varint(static_cast<std::uint32_t>(remaining));
  w.string(topic_field);
  if (qos) w.u16(packet_id);
  if (v5) {
    w.varint(static_cast<std::uint32_t>(props_content));
    w.raw(properties.data(), properties.size());
    if (subscription_id) {
      w.u8(0x0B);
      w.varint(subscription_id);
    }
    if (alias.alias) {
      w.u8(0x23);
      w.u16(alias.alias);
      if (!alias.known) c.aliases->out.assign(alias, topic);
    }
  }
  w.raw(payload.data(), payload.size());
  c.out.pending().grow(total);
  ShardCounters::bump(counters_.publish_sent[qos]);
  ShardCounters::bump(counters_.payload_bytes_sent[qos], payload.size());
  ShardCounters::bump(counters_.packets_sent);
  schedule_flush(c);
  return true;
}

void ConnectionTable::schedule_flush(Connection& c) {
  if (c.in_flush_list) return;
  c.in_flush_list = true;
  flush_list_.push_back(&c);
}

void ConnectionTable::flush_all() {
  // By index: a flush that fails closes its connection, which may schedule more.
  for (std::size_t i = 0; i < flush_list_.size(); ++i) {
    Connection* c = flush_list_[i];
    c->in_flush_list = false;
    flush(*c);
  }
  flush_list_.clear();
}

void ConnectionTable::flush(Connection& c) {
  if (c.peer_closed) return;
  if (c.layer && c.out.idle()) {
    // Pending holds MQTT bytes: turn them into the layer's wire form after what the layer
    // itself has to say (handshake records come before application records). Only when
    // nothing is on the wire, so pending never mixes the two.
    if (!flush_layer_output(c)) return;
    c.out.pending().swap(c.layer_wire);
  }
  auto region = c.out.begin_send();
  if (region.empty()) return;
  iovec iov{const_cast<std::byte*>(region.data()), region.size()};
  loop_->send(c.socket, &iov, 1);
}

// Encodes the connection's pending MQTT bytes through its layer onto the end of layer_wire.
bool ConnectionTable::flush_layer_output(Connection& c) {
  if (!c.out.has_pending()) return true;
  ByteBlock app;
  app.swap(c.out.pending());
  if (c.layer->on_app_data({app.data(), app.size()}, c.layer_wire)) return true;
  log_info("closing: {}", c.layer->error());
  close(c, CloseKind::abrupt);
  return false;
}

void ConnectionTable::update_receive_pause(Connection& c) {
  if (c.state == Connection::State::closing) return;
  // The loop is told only about changes; both reasons share one switch.
  bool want = c.paused();
  if (want && !c.recv_paused_in_loop) {
    c.recv_paused_in_loop = true;
    loop_->pause_recv(c.socket);
  } else if (!want && c.recv_paused_in_loop) {
    c.recv_paused_in_loop = false;
    loop_->resume_recv(c.socket);
  }
}

void ConnectionTable::hold_publisher(std::uint32_t serial, bool on) {
  Connection* c = find(serial);
  if (!c || c->state == Connection::State::closing || (!on && !c->inbound)) return;
  std::uint32_t& holds = c->inbound_qos().held_by_sessions;
  if (on) {
    ++holds;
  } else if (holds) {
    --holds;
  }
  const bool want = holds != 0;
  if (want == c->overload_paused) return;
  c->overload_paused = want;
  // Its keepalive counts again from here: what it sent while paused waits unread.
  if (!want) c->last_rx_tick = ctx_.tick;
  update_receive_pause(*c);
}

// ---- timers ----

void ConnectionTable::arm_keepalive(Connection& c) {
  if (c.keepalive_s) {
    timers_.schedule(c.timer,
                     ctx_.tick + ShardContext::ms_to_ticks(std::uint64_t(c.keepalive_s) * 1500));
  } else {
    timers_.cancel(c.timer);
  }
}

void ConnectionTable::arm_login_deadline(Connection& c, std::uint32_t seconds) {
  timers_.schedule(c.timer, ctx_.tick + ShardContext::ms_to_ticks(std::uint64_t(seconds) * 1000));
}

void ConnectionTable::on_tick() {
  timers_.advance(ctx_.tick, [this](io::TimerNode& n) { on_timer(*Connection::from_timer(&n)); });
}

void ConnectionTable::on_timer(Connection& c) {
  if (c.state == Connection::State::closing) return;
  if (c.state != Connection::State::connected) {
    if (c.state == Connection::State::authenticating)
      log_info("closing a connection whose login was not checked within {} s",
               config_.auth.login_timeout_s);
    else
      log_info("closing a connection that completed no CONNECT within {} ms",
               config_.connect_timeout_ms);
    close(c, CloseKind::abrupt);
    return;
  }
  // Keepalive: 1.5 times the interval since the last packet. A connection the broker
  // stopped reading (a full ring or queue downstream) may have sent its PINGREQ unread.
  std::uint64_t limit = ShardContext::ms_to_ticks(std::uint64_t(c.keepalive_s) * 1500);
  if (c.ring_paused || c.overload_paused) c.last_rx_tick = ctx_.tick;
  if (ctx_.tick >= c.last_rx_tick + limit) {
    log_info("client '{}' silent for 1.5 x {} s: disconnecting", c.client_id.view(), c.keepalive_s);
    // MQTT 5 hears why (0x8D), unless output is still queued: a peer that reads nothing
    // must not keep its socket open waiting for the goodbye to flush.
    const bool can_say = c.out.queued() == 0;
    if (can_say)
      send_disconnect(c, core::ReasonCode::KeepAliveTimeout);
    else
      note_close_reason(c, core::ReasonCode::KeepAliveTimeout);
    close(c, can_say ? CloseKind::graceful : CloseKind::abrupt);
  } else {
    timers_.schedule(c.timer, c.last_rx_tick + limit);
  }
}

// ---- closing ----

void ConnectionTable::close(Connection& c, CloseKind kind) {
  if (c.state == Connection::State::closing) return;
  bool was_connected = c.state == Connection::State::connected;
  c.state = Connection::State::closing;
  timers_.cancel(c.timer);
  if (was_connected)
    counters_.clients_connected.store(
        counters_.clients_connected.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  if (was_connected) log_disconnected(c);
  events_->on_closing(c, was_connected);
  c.rx_tail.release();
  if (c.layer && kind == CloseKind::graceful && !c.peer_closed) {
    flush_layer_output(c);
    c.layer->close(c.layer_wire);
  }
  if (kind == CloseKind::graceful && !c.peer_closed &&
      (c.out.queued() > 0 || !c.layer_wire.empty())) {
    c.close_when_flushed = true;  // say goodbye (CONNACK/DISCONNECT) first
    schedule_flush(c);
    return;
  }
  loop_->close(c.socket);
}

// One line per disconnect: how it ended and, where there is one, the reason code
// (docs/operations.md, Logs). The connect line before it says who and from where.
void ConnectionTable::log_disconnected(const Connection& c) {
  std::optional<core::ReasonCode> reason;
  if (auto it = close_reasons_.find(c.serial); it != close_reasons_.end()) {
    reason = it->second;
    close_reasons_.erase(it);
  }
  if (log_level() > LogLevel::info) return;
  // A DISCONNECT's code, whichever side sent it (or would have: 3.1.x has none).
  const std::string code =
      reason ? fmt::format(" (reason 0x{:02x}: {})", static_cast<unsigned>(*reason),
                           core::reason_code_name(*reason, core::PacketType::Disconnect))
             : std::string();
  // 0x04 (Disconnect with Will Message) only a client sends: a DISCONNECT that asks for the
  // will, so not clean_disconnect, but not lost either.
  const bool said_goodbye =
      c.clean_disconnect || reason == core::ReasonCode::DisconnectWithWillMessage;
  log_info("client '{}' disconnected: {}{}", c.client_id.view(),
           said_goodbye    ? "DISCONNECT"
           : c.peer_closed ? "connection lost (no DISCONNECT)"
                           : "closed by the broker",
           code);
}

void ConnectionTable::close_now_if_flushing(Connection& c) {
  if (c.close_when_flushed && c.state == Connection::State::closing) {
    c.close_when_flushed = false;
    loop_->close(c.socket);
  }
}

void ConnectionTable::on_sent(Connection& c, std::size_t bytes) {
  c.out.complete_send(bytes);
  if (!c.layer_wire.empty()) schedule_flush(c);
  ShardCounters::bump(counters_.bytes_sent, bytes);
  if (c.out.queued() > 0)
    schedule_flush(c);
  else
    close_now_if_flushing(c);
}

void ConnectionTable::on_peer_closed(Connection& c) {
  c.peer_closed = true;
  if (c.state != Connection::State::closing)
    close(c, CloseKind::abrupt);
  else
    close_now_if_flushing(c);
}

void ConnectionTable::on_closed(Connection& c) {
  if (c.state != Connection::State::closing) close(c, CloseKind::abrupt);
  timers_.cancel(c.timer);
  if (c.in_flush_list) std::erase(flush_list_, &c);
  events_->on_released(c);
  connections_.erase(&c);
  ShardCounters::set(counters_.connections_open, connections_.size());
  forget_peer_address(c);
  if (!close_reasons_.empty()) close_reasons_.erase(c.serial);
  if (c.listener < listener_connections_.size()) --listener_connections_[c.listener];
  c.out.release_all();
  if (c.will) c.will->release();
  slab_.destroy(&c);
}

}  // namespace shardmq::broker
