// MQTT packets from clients: framing the byte stream, then one handler per packet type.
#include <algorithm>

#include "broker/log.hpp"
#include "broker/shard.hpp"
#include "core/decoder.hpp"
#include "core/encoder.hpp"

namespace shardmq::broker {

using core::ProtocolVersion;
using core::ReasonCode;

void Shard::consume(Connection& c, std::span<const std::byte> data) {
  const std::uint32_t max = config_.max_packet_size;
  // Finish the packet whose start arrived earlier, taking only the bytes it needs.
  while (!c.rx_tail.empty() && !data.empty()) {
    auto frame = core::peek_frame({c.rx_tail.data(), c.rx_tail.size()}, max);
    if (!frame) return protocol_error(c, core::reason_code(frame.error()), core::decode_error_name(frame.error()));
    std::size_t want = frame->header_size ? frame->total_size - c.rx_tail.size() : 1;
    std::size_t take = std::min(want, data.size());
    c.rx_tail.append(data.data(), take);
    data = data.subspan(take);
    if (frame->header_size && c.rx_tail.size() == frame->total_size) {
      bool ok = handle_frame(c, {c.rx_tail.data(), c.rx_tail.size()}, frame->header_size);
      c.rx_tail.release();  // an idle connection keeps no receive memory
      if (!ok) return;
    }
  }
  while (!data.empty()) {
    auto frame = core::peek_frame(data, max);
    if (!frame) return protocol_error(c, core::reason_code(frame.error()), core::decode_error_name(frame.error()));
    if (frame->header_size == 0 || frame->total_size > data.size()) {
      c.rx_tail.append(data.data(), data.size());
      return;
    }
    if (!handle_frame(c, data.first(frame->total_size), frame->header_size)) return;
    data = data.subspan(frame->total_size);
  }
}

// Decodes and handles one whole packet; false when the connection is closing.
bool Shard::handle_frame(Connection& c, std::span<const std::byte> frame, std::size_t header) {
  core::DecodeOptions opts;
  opts.version = c.version;
  opts.max_packet_size = config_.max_packet_size;
  opts.is_server = true;
  core::DecodeError e = core::decode_frame(frame, header, opts, scratch_packet_);
  if (e != core::DecodeError::Ok) {
    // A CONNECT with an unknown protocol level still gets its refusal in CONNACK.
    if (c.state == Connection::State::awaiting_connect &&
        (e == core::DecodeError::UnsupportedProtocolVersion ||
         e == core::DecodeError::UnknownProtocolName ||
         e == core::DecodeError::ProtocolNameLevelMismatch)) {
      core::ConnAck ack;
      ack.reason_code = static_cast<ReasonCode>(core::ConnectReturnCode::UnacceptableProtocolVersion);
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
           c.session ? "client '" + c.session->client_id + "'" : std::string("a connection"), why,
           static_cast<unsigned>(reason));
  if (c.state == Connection::State::connected && c.version == ProtocolVersion::v5) {
    core::Disconnect d;
    d.reason_code = reason;
    send_packet(c, d);
  } else if (c.state == Connection::State::awaiting_connect && c.version == ProtocolVersion::v5) {
    core::ConnAck ack;
    ack.reason_code = reason;
    send_packet(c, ack);
  }
  close_connection(c, CloseKind::graceful);
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
  switch (core::packet_type(p)) {
    case core::PacketType::Connect:
      return protocol_error(c, ReasonCode::ProtocolError, "second CONNECT");
    case core::PacketType::Publish:
      return handle_publish(c, std::get<core::Publish>(p));
    case core::PacketType::PubRel: {
      auto& rel = std::get<core::PubRel>(p);
      auto it = std::find(c.qos2_awaiting_rel.begin(), c.qos2_awaiting_rel.end(), rel.packet_id);
      core::PubComp comp;
      comp.packet_id = rel.packet_id;
      if (it != c.qos2_awaiting_rel.end()) {
        *it = c.qos2_awaiting_rel.back();
        c.qos2_awaiting_rel.pop_back();
      } else if (c.version == ProtocolVersion::v5) {
        comp.reason_code = ReasonCode::PacketIdentifierNotFound;
      }
      send_packet(c, comp);
      return;
    }
    case core::PacketType::PubAck:
    case core::PacketType::PubComp:
      return;  // outgoing QoS 1/2 completed
    case core::PacketType::PubRec: {
      core::PubRel rel;
      rel.packet_id = std::get<core::PubRec>(p).packet_id;
      send_packet(c, rel);
      return;
    }
    case core::PacketType::Subscribe:
      return handle_subscribe(c, std::get<core::Subscribe>(p));
    case core::PacketType::Unsubscribe:
      return handle_unsubscribe(c, std::get<core::Unsubscribe>(p));
    case core::PacketType::PingReq:
      send_packet(c, core::PingResp{});
      return;
    case core::PacketType::Disconnect:
      c.clean_disconnect = true;
      return close_connection(c, CloseKind::graceful);
    case core::PacketType::Auth:
      return protocol_error(c, ReasonCode::ProtocolError, "AUTH without an authentication method");
    default:
      return protocol_error(c, ReasonCode::ProtocolError, "packet not sent by clients");
  }
}

void Shard::handle_connect(Connection& c, const core::Connect& p) {
  c.version = p.version;
  core::ConnAck ack;
  std::string client_id(p.client_id);
  bool assigned = false;
  if (client_id.empty()) {
    // 3.1 requires an identifier; 3.1.1 allows none only with a clean session.
    if (p.version == ProtocolVersion::v31 || (p.version == ProtocolVersion::v311 && !p.clean_start)) {
      ack.reason_code = p.version == ProtocolVersion::v5
                            ? ReasonCode::ClientIdentifierNotValid
                            : static_cast<ReasonCode>(core::ConnectReturnCode::IdentifierRejected);
      send_packet(c, ack);
      log_info("refusing CONNECT without a client identifier");
      close_connection(c, CloseKind::graceful);
      return;
    }
    client_id = fmt::format("auto-{:x}-{:x}-{:x}", id_, c.serial, next_session_serial_);
    assigned = p.version == ProtocolVersion::v5;
  }
  if (p.version == ProtocolVersion::v5 && p.properties.topic_alias_maximum.value_or(0) > 0) {
    // We send no aliases; nothing to remember.
  }
  c.max_packet_out = p.version == ProtocolVersion::v5 ? p.properties.maximum_packet_size.value_or(0) : 0;

  auto s = std::make_unique<Session>();
  s->client_id = std::move(client_id);
  s->id = (std::uint64_t(id_) << 48) | next_session_serial_++;
  s->connection = &c;
  c.session = std::move(s);
  c.state = Connection::State::connected;
  c.keepalive_s = p.keep_alive;
  if (p.version == ProtocolVersion::v5 && c.keepalive_s > config_.max_keepalive) {
    c.keepalive_s = config_.max_keepalive;
    ack.properties.server_keep_alive = c.keepalive_s;
  }
  if (c.keepalive_s) {
    timers_.schedule(c.timer, tick_ + (std::uint64_t(c.keepalive_s) * 1500 + 99) / 100);
  } else {
    timers_.cancel(c.timer);
  }
  if (p.version == ProtocolVersion::v5) {
    if (assigned) ack.properties.assigned_client_identifier = c.session->client_id;
    ack.properties.topic_alias_maximum = std::nullopt;  // 0: no aliases from clients
    ack.properties.retain_available = 0;
    ack.properties.shared_subscription_available = 0;
    if (config_.max_packet_size < core::kMaxRemainingLength)
      ack.properties.maximum_packet_size = config_.max_packet_size;
  }
  send_packet(c, ack);
  ShardCounters::bump(counters_.clients_total);
  ShardCounters::bump(counters_.clients_connected);
  log_debug("client '{}' connected (MQTT {}, keepalive {} s)", c.session->client_id,
            static_cast<unsigned>(p.version), c.keepalive_s);
}

void Shard::handle_publish(Connection& c, const core::Publish& p) {
  ShardCounters::bump(counters_.messages_received);
  if (p.properties.topic_alias) {
    return protocol_error(c, ReasonCode::TopicAliasInvalid, "topic alias over the maximum of 0");
  }
  std::uint8_t qos = static_cast<std::uint8_t>(p.qos);
  if (qos == 2) {
    if (std::find(c.qos2_awaiting_rel.begin(), c.qos2_awaiting_rel.end(), p.packet_id) !=
        c.qos2_awaiting_rel.end()) {
      // A resend of a message already taken: acknowledge again, deliver nothing.
      core::PubRec rec;
      rec.packet_id = p.packet_id;
      send_packet(c, rec);
      return;
    }
  }
  std::string_view props = c.version == ProtocolVersion::v5 ? core::as_string_view(p.properties.raw)
                                                             : std::string_view{};
  route(p.topic, props, core::as_string_view(p.payload), qos, c.session.get(), &c);
  if (qos == 1) {
    core::PubAck ack;
    ack.packet_id = p.packet_id;
    send_packet(c, ack);
  } else if (qos == 2) {
    c.qos2_awaiting_rel.push_back(p.packet_id);
    core::PubRec rec;
    rec.packet_id = p.packet_id;
    send_packet(c, rec);
  }
}

void Shard::handle_subscribe(Connection& c, const core::Subscribe& p) {
  core::SubAck ack;
  ack.packet_id = p.packet_id;
  std::uint32_t sub_id = 0;
  p.properties.for_each_subscription_identifier([&](std::uint32_t v) { sub_id = v; });
  bool new_interest = false;
  for (const core::Subscription& s : p.subscriptions) {
    if (s.topic_filter.starts_with("$share/")) {
      ack.reason_codes.push_back(c.version == ProtocolVersion::v5
                                     ? ReasonCode::SharedSubscriptionsNotSupported
                                     : static_cast<ReasonCode>(0x80));
      continue;
    }
    SubscriptionOptions o;
    o.max_qos = static_cast<std::uint8_t>(s.max_qos);
    o.no_local = s.no_local;
    o.retain_as_published = s.retain_as_published;
    o.identifier = sub_id;
    new_interest |= add_subscription(*c.session, std::string(s.topic_filter), o);
    ack.reason_codes.push_back(static_cast<ReasonCode>(o.max_qos));
  }
  if (new_interest && mesh_.shards() > 1) {
    std::uint32_t b = issue_barrier();
    pending_subacks_.push_back(PendingAck{&c, c.serial, b, std::move(ack)});
    return;
  }
  // An earlier SUBSCRIBE's interest may still be on its way: keep SUBACKs in order.
  if (!pending_subacks_.empty()) {
    pending_subacks_.push_back(PendingAck{&c, c.serial, barrier_issued_, std::move(ack)});
    return;
  }
  send_packet(c, ack);
}

void Shard::handle_unsubscribe(Connection& c, const core::Unsubscribe& p) {
  core::UnsubAck ack;
  ack.packet_id = p.packet_id;
  for (std::string_view f : p.topic_filters) {
    bool had = remove_subscription(*c.session, std::string(f));
    if (c.version == ProtocolVersion::v5)
      ack.reason_codes.push_back(had ? ReasonCode::Success : ReasonCode::NoSubscriptionExisted);
  }
  send_packet(c, ack);
}

void Shard::drop_session(Connection& c) {
  if (!c.session) return;
  Session& s = *c.session;
  while (!s.subscriptions.empty()) {
    std::string f = s.subscriptions.back().filter;
    remove_subscription(s, f);
  }
  c.session.reset();
}

}  // namespace shardmq::broker
