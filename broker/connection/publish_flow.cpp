// What a client sends that is not about connecting: PUBLISH (routed, then acknowledged once
// what it wrote is durable), SUBSCRIBE and UNSUBSCRIBE (for the session's home
// shard), its will; and what the home shard sends back for it.
#include <algorithm>

#include "broker/auth/access_control.hpp"
#include "broker/connection/client_protocol.hpp"
#include "broker/connection/connection_table.hpp"
#include "broker/connection/topic_limits.hpp"
#include "broker/log.hpp"
#include "broker/mesh/mesh_link.hpp"
#include "broker/message/local_publish.hpp"
#include "broker/message/message_expiry.hpp"
#include "broker/routing/router.hpp"
#include "broker/session/session_store.hpp"
#include "broker/storage/storage_link.hpp"
#include "core/topic_validation.hpp"

namespace shardmq::broker {

using core::ProtocolVersion;
using core::ReasonCode;
using CloseKind = ConnectionTable::CloseKind;

void ClientProtocol::handle_publish(Connection& c, const core::Publish& p) {
  const auto q = static_cast<std::size_t>(p.qos);
  ShardCounters::bump(counters_.publish_received[q]);
  ShardCounters::bump(counters_.payload_bytes_received[q], p.payload.size());
  std::string_view topic = p.topic;
  std::string_view properties = c.version == ProtocolVersion::v5
                                    ? core::as_string_view(p.properties.raw)
                                    : std::string_view{};
  if (p.properties.topic_alias) [[unlikely]] {
    if (!resolve_topic_alias(c, p, topic, properties)) return;
  }
  std::uint8_t qos = static_cast<std::uint8_t>(p.qos);
  if (qos == 2 && c.inbound && c.inbound->awaiting_rel(p.packet_id)) {
    // A resend of a message already taken: acknowledge again (after the first PUBREC, if
    // that is still held), deliver nothing.
    return acknowledge(c, p.packet_id | HeldAcks::kPubRec, storage_.peers().last_ticket());
  }
  // MQTT 5 §3.3.4: no more unacknowledged QoS 1/2 PUBLISHes than the Receive Maximum the
  // CONNACK gave (max_inflight). Only a client with some unacknowledged has `inbound`.
  if (qos != 0 && c.inbound && c.version == ProtocolVersion::v5 &&
      c.inbound->unacknowledged() >= config_.max_inflight) [[unlikely]]
    return protocol_error(c, ReasonCode::ReceiveMaximumExceeded,
                          "more unacknowledged QoS 1/2 PUBLISHes than the Receive Maximum");
  std::uint32_t ack = p.packet_id | (qos == 2 ? HeldAcks::kPubRec : 0u);
  if (publish_limits_ && !publish_within_limits(c, p, topic)) return;
  if (!access_.may_publish(c.client_id, topic)) {
    ShardCounters::bump(counters_.dropped_acl);
    return refuse_publish(c, p.packet_id, qos, ReasonCode::NotAuthorized);
  }
  LocalPublish pub;
  pub.topic = topic;
  pub.properties = properties;
  pub.payload = core::as_string_view(p.payload);
  pub.qos = qos;
  pub.retain = p.retain;
  pub.origin_session = reinterpret_cast<std::uintptr_t>(c.session);
  pub.expires = p.properties.message_expiry_interval.has_value();
  pub.publisher = self(c);
  pub.arrived_us = rx_us_;
  const std::uint64_t tickets_before = storage_.peers().last_ticket();
  // A congested subscriber does not hold this acknowledgement: it stops this connection
  // being read instead (SessionStore::hold_publisher), which slows a client whatever its
  // window; route()'s answer is not needed.
  router_.route(pub, &c);
  if (qos == 0) return;
  if (qos == 2) {
    c.inbound_qos().qos2_awaiting_rel.push_back(p.packet_id);
    store_inbound_qos2(c, p.packet_id, true);
  }
  acknowledge(c, ack, tickets_before);
}

// PUBREL: the QoS 2 exchange ends with PUBCOMP, once the release is durable (until then a
// restart would still hold the id, and take the client's next PUBLISH with it for a resend).
void ClientProtocol::handle_pubrel(Connection& c, std::uint16_t packet_id) {
  if (!(c.inbound && c.inbound->release(packet_id))) {
    core::PubComp comp;
    comp.packet_id = packet_id;
    if (c.version == ProtocolVersion::v5) comp.reason_code = ReasonCode::PacketIdentifierNotFound;
    connections_.send_packet(c, comp);
    return;
  }
  const std::uint64_t tickets_before = storage_.peers().last_ticket();
  store_inbound_qos2(c, packet_id, false);
  acknowledge(c, packet_id | HeldAcks::kPubComp, tickets_before);
}

// The session's home shard writes its inbound QoS 2 ids (only for a session that outlives
// its connection: nothing else of it is stored); on another shard, the write's ticket makes
// the acknowledgement wait for it as for a publish's (PeerDurability).
void ClientProtocol::store_inbound_qos2(Connection& c, std::uint16_t packet_id, bool received) {
  if (!storage_.stores() || c.session_expiry_zero) return;
  if (c.home == id_) {
    if (received)
      storage_.inbound_qos2_received(c.client_id, packet_id);
    else
      storage_.inbound_qos2_released(c.client_id, packet_id);
    return;
  }
  ShardEnvelope e{ShardEnvelope::Kind::inbound_qos2, static_cast<std::uint8_t>(received),
                  ctx_.self(), packet_id, c.session};
  mesh_.push(c.home, e.set_ticket(storage_.peers().sent(std::uint64_t(1) << c.home)), nullptr);
}

// Sends `ack` now, or holds it until what it depends on allows: this shard's writes so far
// durable, and those of other shards for the tickets taken since `tickets_before`.
// Acknowledgements go in order: behind one held, all wait.
void ClientProtocol::acknowledge(Connection& c, std::uint32_t ack, std::uint64_t tickets_before) {
  const std::uint64_t mark = storage_.write_mark();
  const std::uint64_t ticket = storage_.peers().last_ticket();
  const bool peers_wait = ticket != tickets_before;
  if (!peers_wait && (!c.inbound || c.inbound->held_acks.empty()) && storage_.durable(mark))
    return send_publish_ack(c, ack);
  c.inbound_qos().held_acks.hold(ack, mark, peers_wait ? ticket : 0);
  if (!c.in_held_list) {
    c.in_held_list = true;
    held_ack_connections_.push_back(&c);
  }
}

// A PUBLISH that is not routed (the authoriser said no, its topic or payload is over a limit). MQTT
// 5 says why, and the reason code ends a QoS 2 exchange too (no PUBREL follows); 3.1.1 has no way
// to say it, so the client is acknowledged as if it had been delivered (as Mosquitto does for a
// denied topic).
void ClientProtocol::refuse_publish(Connection& c, std::uint16_t packet_id, std::uint8_t qos,
                                    ReasonCode reason) {
  if (qos == 0) return;
  if (c.version == ProtocolVersion::v5)
    return send_refusal(c, packet_id, qos, reason, core::reason_code_name(reason));
  if (qos == 2) c.inbound_qos().qos2_awaiting_rel.push_back(packet_id);
  send_publish_ack(c, packet_id | (qos == 2 ? HeldAcks::kPubRec : 0u));
}

// MQTT 5: the PUBACK (QoS 1) or PUBREC (QoS 2) that refuses a PUBLISH, with `why` as its Reason
// String when the client asked for problem information.
void ClientProtocol::send_refusal(Connection& c, std::uint16_t packet_id, std::uint8_t qos,
                                  ReasonCode reason, std::string_view why) {
  auto refuse = [&](auto packet) {
    packet.packet_id = packet_id;
    packet.reason_code = reason;
    if (c.problem_info) packet.properties.reason_string = why;
    connections_.send_packet(c, packet);
  };
  if (qos == 1)
    refuse(core::PubAck{});
  else
    refuse(core::PubRec{});
}

void ClientProtocol::send_publish_ack(Connection& c, std::uint32_t ack) {
  auto id = static_cast<std::uint16_t>(ack & 0xFFFF);
  if (ack & HeldAcks::kPubRec) {
    core::PubRec rec;
    rec.packet_id = id;
    connections_.send_packet(c, rec);
  } else if (ack & HeldAcks::kPubComp) {
    core::PubComp comp;
    comp.packet_id = id;
    connections_.send_packet(c, comp);
  } else {
    core::PubAck puback;
    puback.packet_id = id;
    connections_.send_packet(c, puback);
  }
}

void ClientProtocol::release_acks() {
  if (held_ack_connections_.empty()) return;
  const ReasonCode failing = storage_.failing();
  const std::uint64_t durable = storage_.durable_through();
  const std::uint64_t peers = storage_.peers().through();
  auto held = std::move(held_ack_connections_);
  held_ack_connections_.clear();
  for (Connection* c : held) {
    c->in_held_list = false;
    if (!c->inbound) continue;  // (listed only after inbound_qos(): always set)
    if (c->state != Connection::State::connected) {
      c->inbound->held_acks.clear();
      continue;
    }
    auto send = [&](std::uint32_t ack) { send_publish_ack(*c, ack); };
    bool all;
    if (failing == ReasonCode::Success) {
      all = c->inbound->held_acks.release(durable, peers, send);
    } else {
      bool close = false;
      all = c->inbound->held_acks.release_or_refuse(durable, peers, send, [&](std::uint32_t ack) {
        close |= !refuse_unstored(*c, ack, failing);
      });
      if (close) {
        log_warn(
            "closing the connection of '{}': its QoS 1/2 message could not be stored, and "
            "MQTT 3.1.1 has no way to refuse it",
            c->client_id.view());
        connections_.close(*c, CloseKind::graceful);
        continue;
      }
    }
    if (!all) {
      c->in_held_list = true;
      held_ack_connections_.push_back(c);
    }
  }
}

// A publish whose writes failed: MQTT 5 hears `reason` (a refused PUBREC ends the QoS 2
// exchange: its id is free again); false for 3.1.1, whose connection must close instead.
bool ClientProtocol::refuse_unstored(Connection& c, std::uint32_t ack, ReasonCode reason) {
  if (c.version != ProtocolVersion::v5) return false;
  const auto id = static_cast<std::uint16_t>(ack & 0xFFFF);
  const bool qos2 = ack & HeldAcks::kPubRec;
  if (qos2) {
    c.inbound->release(id);
    store_inbound_qos2(c, id, false);
  }
  send_refusal(c, id, qos2 ? 2 : 1, reason, "the message could not be stored");
  ShardCounters::bump(counters_.messages_dropped);
  return true;
}

void ClientProtocol::finish_too_large() {
  // Finishing one may start the next queued message, which may be too large too.
  for (auto dropped = connections_.take_too_large(); !dropped.empty();
       dropped = connections_.take_too_large())
    for (auto [serial, packet_id] : dropped)
      if (Connection* c = connections_.find(serial); c && c->state == Connection::State::connected)
        handle_client_ack(*c, core::PacketType::Publish, packet_id);
}

void ClientProtocol::handle_subscribe(Connection& c, const core::Subscribe& p) {
  auto* req = new SubscribeRequest;
  req->session = c.session;
  req->connection = self(c);
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
    // A filter that breaks MQTT's rules, or is over a limit, is refused alone (0x8F).
    if (core::check_topic_filter(item.filter) != core::TopicStatus::Ok ||
        (limits_topics_ && !topic_within_limits(item.filter, config_)))
      item.refused = SubscribeRequest::Item::Refusal::invalid;
    else if (!access_.may_subscribe(c.client_id, item.filter))
      item.refused = SubscribeRequest::Item::Refusal::not_authorised;
    req->items.push_back(std::move(item));
  }
  if (c.home == id_) return sessions_.subscribe(req);
  // Handle nothing more from this client until the home shard has applied it.
  c.home_paused = true;
  connections_.update_receive_pause(c);
  to_home(c, ShardEnvelope::Kind::subscribe, req);
}

void ClientProtocol::handle_unsubscribe(Connection& c, const core::Unsubscribe& p) {
  auto* req = new UnsubscribeRequest;
  req->session = c.session;
  req->connection = self(c);
  req->packet_id = p.packet_id;
  for (std::string_view f : p.topic_filters)
    req->filters.emplace_back(f);
  if (c.home == id_) return sessions_.unsubscribe(req);
  c.home_paused = true;
  connections_.update_receive_pause(c);
  to_home(c, ShardEnvelope::Kind::unsubscribe, req);
}

// A will, now: its connection ended without DISCONNECT, or its Will Delay passed on the
// session's home shard. Its Message Expiry starts counting here.
void ClientProtocol::publish_will(const ClientName& who, PublishedMessage* will) {
  arm_message_expiry(*will, steady_now_ms());
  LocalPublish pub(will);  // adopts the reference
  if (!access_.may_publish(who, pub.topic)) {
    log_info("not publishing the will of '{}' to '{}': not authorised", who.view(), pub.topic);
    return;
  }
  log_debug("publishing the will of '{}' to '{}'", who.view(), pub.topic);
  router_.route(pub, nullptr);
}

// ---- what the session's home shard sends back ----

void ClientProtocol::on_delivery(const ShardEnvelope& e) {
  auto* m = static_cast<PublishedMessage*>(e.ptr);
  Connection* c = connections_.find(e.target);
  if (c && c->state == Connection::State::connected)
    connections_.write_publish(
        *c, m->topic(), properties_to_send(*m, m->expires() ? steady_now_ms() : 0, expiry_scratch_),
        m->payload(), e.flags & kDeliverQosMask, static_cast<std::uint16_t>(e.aux),
        e.flags & kDeliverDup, e.flags & kDeliverRetain, e.seq);
  m->release();
}

void ClientProtocol::on_release(std::uint32_t serial, std::uint16_t packet_id) {
  Connection* c = connections_.find(serial);
  if (!c || c->state != Connection::State::connected) return;
  core::PubRel rel;
  rel.packet_id = packet_id;
  connections_.send_packet(*c, rel);
}

void ClientProtocol::on_session_packet(std::uint32_t serial, const core::Packet& p) {
  Connection* c = connections_.find(serial);
  if (!c || c->state != Connection::State::connected) return;
  connections_.send_packet(*c, p);
  if (c->home_paused) resume_later(*c);
}

void ClientProtocol::on_kick(std::uint32_t serial) {
  Connection* c = connections_.find(serial);
  if (!c || c->state != Connection::State::connected) return;
  connections_.send_disconnect(*c, ReasonCode::SessionTakenOver);
  connections_.close(*c, CloseKind::graceful);
}

}  // namespace shardmq::broker
