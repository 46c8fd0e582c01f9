// Framing a client's byte stream and dispatching each packet to its handler.
#include "broker/connection/client_protocol.hpp"

#include <algorithm>

#include "broker/connection/connection_table.hpp"
#include "broker/log.hpp"
#include "broker/mesh/mesh_link.hpp"
#include "broker/message/message_expiry.hpp"
#include "broker/message/will_message.hpp"
#include "broker/session/session_store.hpp"
#include "core/decoder.hpp"

namespace shardmq::broker {

using core::ProtocolVersion;
using core::ReasonCode;
using CloseKind = ConnectionTable::CloseKind;

ClientProtocol::ClientProtocol(ShardContext& ctx, ConnectionTable& connections,
                               SessionStore& sessions, Router& router, MeshLink& mesh,
                               AccessControl& access, StorageLink& storage)
    : ctx_(ctx),
      config_(ctx.config),
      counters_(ctx.counters),
      id_(ctx.id),
      connections_(connections),
      sessions_(sessions),
      router_(router),
      mesh_(mesh),
      access_(access),
      storage_(storage) {
  settings_changed();
}

ClientProtocol::~ClientProtocol() {
  for (auto& [serial, req] : authenticating_)
    delete req;
}

ConnectionRef ClientProtocol::self(const Connection& c) const {
  return ConnectionRef{ctx_.self(), c.serial};
}

void ClientProtocol::on_data(Connection& c, std::span<const std::byte> data) {
  if (c.state == Connection::State::closing) return;
  ShardCounters::bump(counters_.bytes_received, data.size());
  rx_us_ = ctx_.delivery_latency.arrival_us();  // once a turn, not once a PUBLISH
  c.last_rx_tick = ctx_.tick;
  if (c.layer) {
    layer_app_.clear();
    bool ok = c.layer->on_wire_data(data, layer_app_, c.layer_wire);
    if (!c.layer_wire.empty()) connections_.schedule_flush(c);
    if (!layer_app_.empty()) {
      // What arrived before a close or an error still counts (PUBLISH then close_notify).
      io::ByteBlock app;  // consume() may reach another connection's layer: own the bytes
      app.swap(layer_app_);
      if (c.home_paused)
        c.rx_tail.append(app.data(), app.size());
      else
        consume(c, {app.data(), app.size()});
      app.clear();
      if (layer_app_.capacity() == 0) layer_app_.swap(app);  // keep the buffer for next time
    }
    if (!ok && c.state != Connection::State::closing) {
      bool bye = c.layer->error().starts_with("closed by peer");
      if (!bye) log_info("closing a connection: {}", c.layer->error());
      connections_.close(c, CloseKind::graceful);
    }
    return;
  }
  if (c.home_paused) {
    c.rx_tail.append(data.data(), data.size());  // the loop may deliver a little after pause
    return;
  }
  consume(c, data);
}

void ClientProtocol::consume(Connection& c, std::span<const std::byte> data) {
  const std::uint32_t max = config_.max_packet_size;
  // Before CONNECT only a CONNECT may start: refuse anything else at its first byte
  // rather than waiting for the length it claims (an HTTP request, TLS to a plain port).
  if (c.state == Connection::State::awaiting_connect && c.rx_tail.empty() && !data.empty() &&
      data[0] != std::byte{0x10})
    return protocol_error(c, ReasonCode::ProtocolError, "first packet is not CONNECT");
  // Finish the packet whose start arrived earlier, taking only the bytes it needs.
  while (!c.rx_tail.empty() && !data.empty()) {
    auto frame = core::peek_frame({c.rx_tail.data(), c.rx_tail.size()}, max);
    if (!frame)
      return protocol_error(c, core::reason_code(frame.error()),
                            core::decode_error_name(frame.error()));
    std::size_t want = frame->header_size ? frame->total_size - c.rx_tail.size() : 1;
    std::size_t take = std::min(want, data.size());
    c.rx_tail.append(data.data(), take);
    data = data.subspan(take);
    if (frame->header_size && c.rx_tail.size() == frame->total_size) {
      io::ByteBlock packet = std::move(c.rx_tail);  // an idle connection keeps no receive memory
      if (!handle_frame(c, {packet.data(), packet.size()}, frame->header_size)) return;
      if (c.home_paused) {
        c.rx_tail.append(data.data(), data.size());
        return;
      }
    }
  }
  while (!data.empty()) {
    auto frame = core::peek_frame(data, max);
    if (!frame)
      return protocol_error(c, core::reason_code(frame.error()),
                            core::decode_error_name(frame.error()));
    if (frame->header_size == 0 || frame->total_size > data.size()) {
      c.rx_tail.append(data.data(), data.size());
      return;
    }
    if (!handle_frame(c, data.first(frame->total_size), frame->header_size)) return;
    data = data.subspan(frame->total_size);
    if (c.home_paused) {
      // Wait for the answer (or the publish rate) before handling what the client sent next.
      c.rx_tail.append(data.data(), data.size());
      return;
    }
  }
}

void ClientProtocol::consume_stashed(Connection& c) {
  if (c.rx_tail.empty()) return;
  io::ByteBlock stash = std::move(c.rx_tail);
  consume(c, {stash.data(), stash.size()});
}

// Decodes and handles one whole packet; false when the connection is closing.
bool ClientProtocol::handle_frame(Connection& c, std::span<const std::byte> frame,
                                  std::size_t header) {
  core::DecodeOptions opts;
  opts.version = c.version;
  opts.max_packet_size = config_.max_packet_size;
  opts.is_server = true;
  opts.check_subscribe_filters = false;  // each bad filter gets its own SUBACK code
  ShardCounters::bump(counters_.packets_received);
  core::DecodeError e = core::decode_frame(frame, header, opts, scratch_packet_);
  if (e != core::DecodeError::Ok) {
    // A CONNECT with an unknown protocol level still gets its refusal in a CONNACK.
    if (c.state == Connection::State::awaiting_connect &&
        (e == core::DecodeError::UnsupportedProtocolVersion ||
         e == core::DecodeError::UnknownProtocolName ||
         e == core::DecodeError::ProtocolNameLevelMismatch)) {
      core::ConnAck ack;
      ack.reason_code =
          static_cast<ReasonCode>(core::ConnectReturnCode::UnacceptableProtocolVersion);
      c.version = ProtocolVersion::v311;
      connections_.send_packet(c, ack);
      ShardCounters::bump(counters_.protocol_errors);
      counters_.refuse(RefuseReason::protocol);
      log_info("refusing CONNECT: {}", core::decode_error_name(e));
      connections_.close(c, CloseKind::graceful);
      return false;
    }
    protocol_error(c, core::reason_code(e), core::decode_error_name(e));
    return false;
  }
  handle_packet(c, scratch_packet_);
  return c.state != Connection::State::closing;
}

void ClientProtocol::protocol_error(Connection& c, ReasonCode reason, std::string_view why) {
  ShardCounters::bump(counters_.protocol_errors);
  log_info("closing {}: {} (reason 0x{:02x})",
           c.client_id.empty() ? std::string("a connection")
                               : fmt::format("client '{}'", c.client_id.view()),
           why, static_cast<unsigned>(reason));
  if (c.state == Connection::State::connected) {
    connections_.send_disconnect(c, reason, why);
  } else if ((c.state == Connection::State::awaiting_connect ||
              c.state == Connection::State::authenticating) &&
             c.version == ProtocolVersion::v5) {
    counters_.refuse(RefuseReason::protocol);
    core::ConnAck ack;
    ack.reason_code = reason;
    connections_.send_packet(c, ack);
  }
  connections_.close(c, CloseKind::graceful);
}

void ClientProtocol::handle_packet(Connection& c, const core::Packet& p) {
  if (c.state == Connection::State::awaiting_connect) {
    if (auto* connect = std::get_if<core::Connect>(&p)) {
      if (connect_limits_ && !connect_within_limits(c, *connect)) return;
      return handle_connect(c, *connect);
    }
    return protocol_error(c, ReasonCode::ProtocolError, "first packet is not CONNECT");
  }
  if (c.state == Connection::State::authenticating) {  // in an enhanced authentication exchange
    if (auto* auth = std::get_if<core::Auth>(&p)) return handle_auth(c, *auth);
    if (std::holds_alternative<core::Disconnect>(p))
      return connections_.close(c, CloseKind::graceful);
    return protocol_error(c, ReasonCode::ProtocolError, "a packet other than AUTH before CONNACK");
  }
  switch (core::packet_type(p)) {
    case core::PacketType::Connect:
      return protocol_error(c, ReasonCode::ProtocolError, "second CONNECT");
    case core::PacketType::Publish:
      return handle_publish(c, std::get<core::Publish>(p));
    case core::PacketType::PubRel:
      return handle_pubrel(c, std::get<core::PubRel>(p).packet_id);
    case core::PacketType::PubAck:
      return handle_client_ack(c, core::PacketType::PubAck, std::get<core::PubAck>(p).packet_id);
    case core::PacketType::PubRec:
      return handle_client_ack(c, core::PacketType::PubRec, std::get<core::PubRec>(p).packet_id);
    case core::PacketType::PubComp:
      return handle_client_ack(c, core::PacketType::PubComp, std::get<core::PubComp>(p).packet_id);
    case core::PacketType::Subscribe:
      return handle_subscribe(c, std::get<core::Subscribe>(p));
    case core::PacketType::Unsubscribe:
      return handle_unsubscribe(c, std::get<core::Unsubscribe>(p));
    case core::PacketType::PingReq:
      connections_.send_packet(c, core::PingResp{});
      return;
    case core::PacketType::Disconnect: {
      auto& d = std::get<core::Disconnect>(p);
      if (auto expiry = d.properties.session_expiry_interval) {
        // MQTT 5 3.14.2.2.2: a session that was to end with its connection cannot be kept.
        if (c.session_expiry_zero && *expiry != 0)
          return protocol_error(c, ReasonCode::ProtocolError,
                                "DISCONNECT sets a Session Expiry Interval after CONNECT's 0");
        disconnect_expiry_s_ = expiry;  // for the detach that closing causes
      }
      // MQTT 5 reason 0x04: disconnect, but publish the will.
      c.clean_disconnect = d.reason_code != ReasonCode::DisconnectWithWillMessage;
      if (c.version == ProtocolVersion::v5) connections_.note_close_reason(c, d.reason_code);
      return connections_.close(c, CloseKind::graceful);
    }
    case core::PacketType::Auth:
      return handle_auth(c, std::get<core::Auth>(p));
    default:
      return protocol_error(c, ReasonCode::ProtocolError, "packet not sent by clients");
  }
}

// A client acknowledged a message its session sent: the session's home shard decides.
void ClientProtocol::handle_client_ack(Connection& c, core::PacketType type,
                                       std::uint16_t packet_id) {
  if (c.home == id_) return sessions_.client_ack(c.session, self(c), type, packet_id);
  mesh_.push(c.home,
             ShardEnvelope{ShardEnvelope::Kind::client_ack, static_cast<std::uint8_t>(type),
                           ctx_.self(), 0, c.session, c.serial, packet_id},
             nullptr);
}

void ClientProtocol::on_closing(Connection& c, bool was_connected) {
  PublishedMessage* will = std::exchange(c.will, nullptr);
  std::uint32_t delay_s = 0;
  if (will && (!was_connected || c.clean_disconnect)) {
    will->release();  // a clean DISCONNECT (or no CONNACK yet): no will
    will = nullptr;
  } else if (will) {
    delay_s = take_will_delay(will);
    if (delay_s == 0) {
      publish_will(c.client_id, will);
      will = nullptr;
    }
  }
  detach_from_session(c, will, delay_s);
}

void ClientProtocol::on_released(Connection& c) {
  mesh_.forget(&c);
  if (c.inbound && c.inbound->throttle) throttle_timers_.cancel(c.inbound->throttle->resume);
  if (c.in_held_list) std::erase(held_ack_connections_, &c);
  if (!enhanced_auth_.empty()) forget_enhanced_auth(c);
}

void ClientProtocol::begin_shutdown() {
  connections_.for_each([&](Connection& c) {
    if (c.state == Connection::State::connected)
      connections_.send_disconnect(c, ReasonCode::ServerShuttingDown);
    c.clean_disconnect = true;  // the server is leaving, not the client: no wills
    connections_.close(c, CloseKind::graceful);
  });
}

void ClientProtocol::resume_waiting() {
  if (!unthrottled_.empty()) resume_throttled();
  // Handling stashed packets can answer more of them locally: repeat until settled.
  while (!resume_list_.empty())
    resume_connections();
}

}  // namespace shardmq::broker
