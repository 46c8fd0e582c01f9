// MQTT packets from clients on this shard's sockets: framing the byte stream, then one
// handler per packet type. Session state is asked of the client identifier's home shard
// (directly when that is this shard, through the rings otherwise).
#include <xxhash.h>

#include <algorithm>

#include "broker/local_publish.hpp"
#include "broker/log.hpp"
#include "broker/shard.hpp"
#include "core/decoder.hpp"
#include "core/encoder.hpp"

namespace shardmq::broker {

using core::ProtocolVersion;
using core::ReasonCode;

void Shard::consume(Connection& c, std::span<const std::byte> data) {
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
      ByteBlock packet = std::move(c.rx_tail);  // an idle connection keeps no receive memory
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
      // Wait for the home shard before handling what the client sent next.
      c.rx_tail.append(data.data(), data.size());
      return;
    }
  }
}

void Shard::consume_stashed(Connection& c) {
  if (c.rx_tail.empty()) return;
  ByteBlock stash = std::move(c.rx_tail);
  consume(c, {stash.data(), stash.size()});
}

// Decodes and handles one whole packet; false when the connection is closing.
bool Shard::handle_frame(Connection& c, std::span<const std::byte> frame, std::size_t header) {
  core::DecodeOptions opts;
  opts.version = c.version;
  opts.max_packet_size = config_.max_packet_size;
  opts.is_server = true;
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
      send_packet(c, ack);
      ShardCounters::bump(counters_.protocol_errors);
      log_info("refusing CONNECT: {}", core::decode_error_name(e));
      close_connection(c, CloseKind::graceful);
      return false;
    }
    protocol_error(c, core::reason_code(e), core::decode_error_name(e));
    return false;
  }
  handle_packet(c, scratch_packet_);
  return c.state != Connection::State::closing;
}

void Shard::protocol_error(Connection& c, ReasonCode reason, std::string_view why) {
  ShardCounters::bump(counters_.protocol_errors);
  log_info("closing {}: {} (reason 0x{:02x})",
           c.client_id.empty() ? std::string("a connection")
                               : fmt::format("client '{}'", c.client_id.view()),
           why, static_cast<unsigned>(reason));
  if (c.state == Connection::State::connected) {
    send_disconnect(c, reason);
  } else if (c.state == Connection::State::awaiting_connect && c.version == ProtocolVersion::v5) {
    core::ConnAck ack;
    ack.reason_code = reason;
    send_packet(c, ack);
  }
  close_connection(c, CloseKind::graceful);
}

// MQTT 5 clients hear why the server closes their connection; 3.1.x has no way to say it.
void Shard::send_disconnect(Connection& c, ReasonCode reason) {
  if (c.version != ProtocolVersion::v5) return;
  core::Disconnect d;
  d.reason_code = reason;
  send_packet(c, d);
}

bool Shard::send_packet(Connection& c, const core::Packet& p) {
  std::size_t n = core::encoded_size(p, c.version);
  auto r = core::encode(p, c.version, {c.out.pending().reserve(n), n});
  if (!r) {
    log_error("cannot encode {}: {}", core::packet_type_name(core::packet_type(p)),
              core::encode_error_name(r.error()));
    return false;
  }
  c.out.pending().grow(*r);
  schedule_flush(c);
  return true;
}

void Shard::handle_packet(Connection& c, const core::Packet& p) {
  if (c.state == Connection::State::awaiting_connect) {
    if (auto* connect = std::get_if<core::Connect>(&p)) return handle_connect(c, *connect);
    return protocol_error(c, ReasonCode::ProtocolError, "first packet is not CONNECT");
  }
  ConnectionRef self{static_cast<std::uint16_t>(id_), c.serial};
  switch (core::packet_type(p)) {
    case core::PacketType::Connect:
      return protocol_error(c, ReasonCode::ProtocolError, "second CONNECT");
    case core::PacketType::Publish:
      return handle_publish(c, std::get<core::Publish>(p));
    case core::PacketType::PubRel: {
      auto& rel = std::get<core::PubRel>(p);
      core::PubComp comp;
      comp.packet_id = rel.packet_id;
      const bool released = c.inbound && std::erase(c.inbound->qos2_awaiting_rel, rel.packet_id);
      if (!released && c.version == ProtocolVersion::v5)
        comp.reason_code = ReasonCode::PacketIdentifierNotFound;
      send_packet(c, comp);
      return;
    }
    case core::PacketType::PubAck:
    case core::PacketType::PubRec:
    case core::PacketType::PubComp: {
      std::uint16_t id = 0;
      if (auto* a = std::get_if<core::PubAck>(&p)) id = a->packet_id;
      if (auto* a = std::get_if<core::PubRec>(&p)) id = a->packet_id;
      if (auto* a = std::get_if<core::PubComp>(&p)) id = a->packet_id;
      if (c.home == id_) {
        session_client_ack(c.session, self, core::packet_type(p), id);
      } else {
        send_to(c.home, ShardEnvelope{ShardEnvelope::Kind::client_ack,
                                      static_cast<std::uint8_t>(core::packet_type(p)),
                                      static_cast<std::uint16_t>(id_), 0, c.session, c.serial, id});
      }
      return;
    }
    case core::PacketType::Subscribe:
      return handle_subscribe(c, std::get<core::Subscribe>(p));
    case core::PacketType::Unsubscribe:
      return handle_unsubscribe(c, std::get<core::Unsubscribe>(p));
    case core::PacketType::PingReq:
      send_packet(c, core::PingResp{});
      return;
    case core::PacketType::Disconnect: {
      auto& d = std::get<core::Disconnect>(p);
      // MQTT 5 reason 0x04: disconnect, but publish the will.
      c.clean_disconnect = d.reason_code != ReasonCode::DisconnectWithWillMessage;
      return close_connection(c, CloseKind::graceful);
    }
    case core::PacketType::Auth:
      return protocol_error(c, ReasonCode::ProtocolError, "AUTH without an authentication method");
    default:
      return protocol_error(c, ReasonCode::ProtocolError, "packet not sent by clients");
  }
}

void Shard::handle_connect(Connection& c, const core::Connect& p) {
  c.version = p.version;
  std::string client_id(p.client_id);
  bool assigned = false;
  if (client_id.empty()) {
    // 3.1 requires an identifier; 3.1.1 allows none only with a clean session.
    if (p.version == ProtocolVersion::v31 ||
        (p.version == ProtocolVersion::v311 && !p.clean_start)) {
      core::ConnAck ack;
      ack.reason_code = static_cast<ReasonCode>(core::ConnectReturnCode::IdentifierRejected);
      send_packet(c, ack);
      ShardCounters::bump(counters_.protocol_errors);
      log_info("refusing CONNECT without a client identifier (MQTT {}{})",
               static_cast<unsigned>(p.version), p.clean_start ? "" : ", persistent session");
      close_connection(c, CloseKind::graceful);
      return;
    }
    client_id = fmt::format("auto-{:x}-{:x}", id_, next_session_serial_++);
    assigned = p.version == ProtocolVersion::v5;
  }
  c.client_id.assign(client_id);
  c.max_packet_out =
      p.version == ProtocolVersion::v5 ? p.properties.maximum_packet_size.value_or(0) : 0;
  c.keepalive_s = p.keep_alive;
  if (p.version == ProtocolVersion::v5 && c.keepalive_s > config_.max_keepalive)
    c.keepalive_s = config_.max_keepalive;
  c.id_assigned = assigned;
  if (p.will) {
    std::string_view will_props = p.version == ProtocolVersion::v5
                                      ? core::as_string_view(p.will->properties.raw)
                                      : std::string_view{};
    c.will =
        PublishedMessage::create(p.will->topic, will_props, core::as_string_view(p.will->payload),
                                 static_cast<std::uint8_t>(p.will->qos), p.will->retain, 0);
  }

  auto* req = new AttachRequest;
  req->client_id = std::move(client_id);
  req->connection = ConnectionRef{static_cast<std::uint16_t>(id_), c.serial};
  req->version = p.version;
  req->clean_start = p.clean_start;
  if (p.version == ProtocolVersion::v5) {
    req->session_expiry_s = p.properties.session_expiry_interval.value_or(0);
    req->receive_maximum = p.properties.receive_maximum.value_or(65535);
  } else {
    req->session_expiry_s = p.clean_start ? 0 : 0xFFFFFFFFu;  // 3.1.1: kept until clean
  }
  c.home = static_cast<std::uint16_t>(XXH3_64bits(req->client_id.data(), req->client_id.size()) %
                                      mesh_.shards());
  c.state = Connection::State::attaching;
  c.home_paused = true;
  update_receive_pause(c);
  if (c.home == id_) {
    session_attach(req);  // may complete synchronously
  } else {
    send_to(c.home,
            ShardEnvelope{ShardEnvelope::Kind::attach, 0, static_cast<std::uint16_t>(id_), 0, req});
  }
}

// The home shard answered the CONNECT.
void Shard::complete_connect(Connection& c, const AttachReply& reply) {
  core::ConnAck ack;
  if (!reply.session) {
    // A newer CONNECT for the same client identifier won the race.
    ack.reason_code = c.version == ProtocolVersion::v5
                          ? ReasonCode::SessionTakenOver
                          : static_cast<ReasonCode>(core::ConnectReturnCode::ServerUnavailable);
    send_packet(c, ack);
    close_connection(c, CloseKind::graceful);
    return;
  }
  c.session = reply.session;
  c.session_attached = true;
  if (c.home == id_) c.session->local_connection = &c;
  if (!reply.qos2_awaiting_rel.empty()) c.inbound_qos().qos2_awaiting_rel = reply.qos2_awaiting_rel;
  c.state = Connection::State::connected;
  ack.session_present = reply.session_present;
  if (c.version == ProtocolVersion::v5) {
    if (c.id_assigned) ack.properties.assigned_client_identifier = c.client_id.view();
    ack.properties.retain_available = std::nullopt;  // retained messages are supported
    ack.properties.shared_subscription_available = 0;
    ack.properties.receive_maximum = config_.max_inflight;
    if (c.keepalive_s != 0 && c.keepalive_s == config_.max_keepalive)
      ack.properties.server_keep_alive = c.keepalive_s;
    if (config_.max_packet_size < core::kMaxRemainingLength)
      ack.properties.maximum_packet_size = config_.max_packet_size;
  }
  send_packet(c, ack);
  if (c.keepalive_s) {
    timers_.schedule(c.timer, tick_ + (std::uint64_t(c.keepalive_s) * 1500 + 99) / 100);
  } else {
    timers_.cancel(c.timer);
  }
  ShardCounters::bump(counters_.clients_total);
  ShardCounters::bump(counters_.clients_connected);
  // A PROXY header's source address, or the client certificate's name.
  std::string who = c.layer ? c.layer->peer_identity() : std::string();
  log_debug("client '{}' connected{}{} (MQTT {}, keepalive {} s, session {})", c.client_id.view(),
            who.empty() ? "" : " as ", who, static_cast<unsigned>(c.version), c.keepalive_s,
            reply.session_present ? "resumed" : "new");
  resume_later(c);
}

// The home shard has answered: handle what the client sent meanwhile, at the end of this
// turn rather than here, since this may run inside the session code that answered (a
// local home shard) and the stashed packets may end the very session it is working on.
void Shard::resume_later(Connection& c) {
  resume_list_.emplace_back(&c, c.serial);
}

void Shard::resume_connections() {
  auto list = std::move(resume_list_);
  resume_list_.clear();
  for (auto [c, serial] : list) {
    if (connection_by_serial(serial) != c || c->state != Connection::State::connected) continue;
    c->home_paused = false;
    consume_stashed(*c);
    update_receive_pause(*c);
  }
}

void Shard::handle_publish(Connection& c, const core::Publish& p) {
  ShardCounters::bump(counters_.messages_received);
  if (p.properties.topic_alias) {
    return protocol_error(c, ReasonCode::TopicAliasInvalid, "topic alias over the maximum of 0");
  }
  std::uint8_t qos = static_cast<std::uint8_t>(p.qos);
  if (qos == 2 && c.inbound && c.inbound->awaiting_rel(p.packet_id)) {
    // A resend of a message already taken: acknowledge again, deliver nothing.
    core::PubRec rec;
    rec.packet_id = p.packet_id;
    send_packet(c, rec);
    return;
  }
  LocalPublish pub;
  pub.topic = p.topic;
  pub.properties = c.version == ProtocolVersion::v5 ? core::as_string_view(p.properties.raw)
                                                    : std::string_view{};
  pub.payload = core::as_string_view(p.payload);
  pub.qos = qos;
  pub.retain = p.retain;
  pub.origin_session = reinterpret_cast<std::uintptr_t>(c.session);
  bool congested = route(pub, &c);
  if (qos == 0) return;
  if (qos == 2) c.inbound_qos().qos2_awaiting_rel.push_back(p.packet_id);
  std::uint32_t ack = p.packet_id | (qos == 2 ? 0x10000u : 0u);
  if (!congested && (!c.inbound || c.inbound->held_acks.empty())) return send_publish_ack(c, ack);
  // Downstream is congested: acknowledge later (release_held_acks), in order.
  c.inbound_qos().held_acks.push_back(ack);
  if (!c.in_held_list) {
    c.in_held_list = true;
    held_ack_connections_.push_back(&c);
  }
}

void Shard::handle_subscribe(Connection& c, const core::Subscribe& p) {
  auto* req = new SubscribeRequest;
  req->session = c.session;
  req->connection = ConnectionRef{static_cast<std::uint16_t>(id_), c.serial};
  req->packet_id = p.packet_id;
  p.properties.for_each_subscription_identifier([&](std::uint32_t v) { req->subscription_id = v; });
  for (const core::Subscription& s : p.subscriptions) {
    SubscribeRequest::Item item;
    item.filter = std::string(s.topic_filter);
    item.options.max_qos = static_cast<std::uint8_t>(s.max_qos);
    item.options.no_local = s.no_local;
    item.options.retain_as_published = s.retain_as_published;
    item.options.identifier = req->subscription_id;
    item.retain_handling = s.retain_handling;
    req->items.push_back(std::move(item));
  }
  if (c.home == id_) return session_subscribe(req);
  // Handle nothing more from this client until the home shard has applied it.
  c.home_paused = true;
  update_receive_pause(c);
  send_to(c.home, ShardEnvelope{ShardEnvelope::Kind::subscribe, 0, static_cast<std::uint16_t>(id_),
                                0, req});
}

void Shard::handle_unsubscribe(Connection& c, const core::Unsubscribe& p) {
  auto* req = new UnsubscribeRequest;
  req->session = c.session;
  req->connection = ConnectionRef{static_cast<std::uint16_t>(id_), c.serial};
  req->packet_id = p.packet_id;
  for (std::string_view f : p.topic_filters)
    req->filters.emplace_back(f);
  if (c.home == id_) return session_unsubscribe(req);
  c.home_paused = true;
  update_receive_pause(c);
  send_to(c.home, ShardEnvelope{ShardEnvelope::Kind::unsubscribe, 0,
                                static_cast<std::uint16_t>(id_), 0, req});
}

void Shard::publish_will(Connection& c) {
  if (!c.will) return;
  LocalPublish pub(c.will);  // adopts the reference
  c.will = nullptr;
  log_debug("publishing the will of '{}' to '{}'", c.client_id.view(), pub.topic);
  route(pub, nullptr);
}

// The connection is going: the home shard keeps (or ends) the session.
void Shard::detach_from_session(Connection& c) {
  if (c.state == Connection::State::awaiting_connect || c.client_id.empty()) return;
  if (!c.session_attached) return;  // attach still in flight: answered in handle_envelope
  c.session_attached = false;
  auto* n = new DetachNotice;
  n->session = c.session;
  n->connection = ConnectionRef{static_cast<std::uint16_t>(id_), c.serial};
  if (c.inbound) n->qos2_awaiting_rel = std::move(c.inbound->qos2_awaiting_rel);
  if (c.home == id_) {
    session_detach(n);
  } else {
    send_to(c.home,
            ShardEnvelope{ShardEnvelope::Kind::detach, 0, static_cast<std::uint16_t>(id_), 0, n});
  }
}

}  // namespace shardmq::broker
