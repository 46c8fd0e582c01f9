// Messages to a session: QoS 0 straight to its connection, QoS 1/2 through the in-flight
// window (the client's Receive Maximum and the broker's max_inflight) and the queue behind
// it, the client's acknowledgements, and congestion: a full queue of a live subscriber holds
// back the publishers whose messages wait for it.
#include <algorithm>

#include "broker/auth/access_control.hpp"
#include "broker/connection/connection_table.hpp"
#include "broker/mesh/mesh_link.hpp"
#include "broker/message/local_publish.hpp"
#include "broker/message/message_expiry.hpp"
#include "broker/session/session_store.hpp"
#include "broker/storage/storage_link.hpp"

namespace shardmq::broker {

std::uint16_t SessionStore::window(const Session& s) const {
  return std::min<std::uint16_t>(config_.max_inflight, s.receive_maximum);
}

void SessionStore::deliver(Session& s, const LocalPublish& p, std::uint8_t qos,
                           std::uint32_t subscription_id, bool retain) {
  if (qos == 0 && !s.online) return;  // QoS 0 is not queued for absent clients (as Mosquitto)
  if (!access_.may_receive(s.client_id, p.topic)) {
    ShardCounters::bump(counters_.dropped_acl);
    return;
  }
  if (p.expires && expired(p.shared())) return;
  if (qos == 0) {
    if (s.connection.shard == id_) {
      // The hot path: straight from the receive buffer into the subscriber's output.
      if (Connection* c = s.local_connection; c && c->state == Connection::State::connected)
        connections_.write_publish(
            *c, p.topic,
            p.expires ? properties_to_send(*p.shared(), steady_now_ms(), expiry_scratch_)
                      : p.properties,
            p.payload, 0, 0, false, retain, subscription_id);
      return;
    }
    PublishedMessage* m = p.shared();
    if (!m) return;
    m->add_ref();
    mesh_.push(s.connection.shard,
               ShardEnvelope{ShardEnvelope::Kind::deliver,
                             static_cast<std::uint8_t>(retain ? kDeliverRetain : 0), ctx_.self(),
                             subscription_id, m, s.connection.serial, 0},
               nullptr);
    return;
  }
  PublishedMessage* m = p.shared();
  if (!m) return;
  OutgoingMessage out{m, qos, retain, subscription_id, 0, false};
  if (s.online && s.queue.empty() && s.inflight.size() < window(s)) {
    m->add_ref();
    start_inflight(s, out);
    return;
  }
  std::size_t bytes = m->payload().size() + m->topic().size();
  if (!s.congested && (s.queue.size() >= config_.max_queued_messages ||
                       s.queued_bytes + bytes > config_.max_queued_bytes)) {
    // An absent client, or one silent for slow_consumer_timeout_ms. A live one that keeps
    // acknowledging is congested from half the limits on: its publishers are paused, and
    // what they had sent before that still queues, past the limits if need be.
    ShardCounters::bump(counters_.messages_dropped);  // documented policy: newest dropped
    ShardCounters::bump(counters_.dropped_queue_full);
    return;
  }
  m->add_ref();
  s.queue.push_back(out);
  count_queued(1);
  s.queued_bytes += bytes;
  storage_.message_added(s.client_id, *m, qos, 0, retain, subscription_id);
  if (s.online) update_congestion(s);
  if (s.congested) hold_publisher(s, p);
}

// The publisher of a message queued for a congested session stops being read (on its own
// shard, through the ring) until the session drains or lets go, once per session.
void SessionStore::hold_publisher(Session& s, const LocalPublish& p) {
  const ConnectionRef pub = p.publisher;
  // No connection (a will, $SYS); or the subscriber's own, whose acknowledgements the
  // draining needs: pausing it would wait for the timeout.
  if (!pub.serial || pub == s.connection) return;
  if (!holds_.add(&s, pub)) return;
  mesh_.send(pub.shard, ShardEnvelope{ShardEnvelope::Kind::hold_publisher, 1, ctx_.self(), 0,
                                      nullptr, pub.serial, 0});
}

void SessionStore::let_publishers_go(Session& s) {
  if (!holds_.holds(&s)) return;
  holds_.release(&s, [&](ConnectionRef pub) {
    if (ctx_.destroying) return;  // the shards are stopping: tell no other shard anything
    mesh_.send(pub.shard, ShardEnvelope{ShardEnvelope::Kind::hold_publisher, 0, ctx_.self(), 0,
                                        nullptr, pub.serial, 0});
  });
}

// Whether `m` (a message that expires) has: counted, so the caller only drops it.
bool SessionStore::expired(const PublishedMessage* m) {
  if (m && !message_expired(*m, steady_now_ms())) return false;
  ShardCounters::bump(counters_.messages_expired);
  return true;
}

// A live subscriber whose queue passes half a limit while it keeps acknowledging is
// "congested": the publishers of what it queues are paused until it drains below a quarter.
// One that acknowledges nothing for slow_consumer_timeout_ms (while it has messages in
// flight) no longer holds anyone back: its queue fills and drops, as an absent client's.
void SessionStore::update_congestion(Session& s) {
  const std::size_t high = std::max<std::size_t>(config_.max_queued_messages / 2, 1);
  const std::uint64_t high_bytes = std::max<std::uint64_t>(config_.max_queued_bytes / 2, 1);
  const bool acking = ctx_.tick - s.last_progress_tick <
                      ShardContext::ms_to_ticks(config_.slow_consumer_timeout_ms);
  const bool above = s.congested ? s.queue.size() > high / 2 || s.queued_bytes > high_bytes / 2
                                 : s.queue.size() >= high || s.queued_bytes >= high_bytes;
  const bool want = s.online && acking && above;
  if (want == s.congested) return;
  s.congested = want;
  if (want) {
    congested_.push_back(&s);
    return;
  }
  std::erase(congested_, &s);
  let_publishers_go(s);
}

void SessionStore::send_outgoing(Session& s, OutgoingMessage& m, bool dup) {
  if (!s.online) return;
  if (s.connection.shard == id_) {
    Connection* c = s.local_connection;
    if (!c || c->state != Connection::State::connected) return;
    if (m.released) {
      core::PubRel rel;
      rel.packet_id = m.packet_id;
      connections_.send_packet(*c, rel);
      return;
    }
    connections_.write_publish(
        *c, m.message->topic(),
        properties_to_send(*m.message, m.message->expires() ? steady_now_ms() : 0, expiry_scratch_),
        m.message->payload(), m.qos, m.packet_id, dup, m.retain, m.subscription_id);
    return;
  }
  if (m.released) {
    mesh_.push(s.connection.shard,
               ShardEnvelope{ShardEnvelope::Kind::release, 0, ctx_.self(), 0, nullptr,
                             s.connection.serial, m.packet_id},
               nullptr);
    return;
  }
  m.message->add_ref();
  std::uint8_t flags =
      static_cast<std::uint8_t>(m.qos | (dup ? kDeliverDup : 0) | (m.retain ? kDeliverRetain : 0));
  mesh_.push(s.connection.shard,
             ShardEnvelope{ShardEnvelope::Kind::deliver, flags, ctx_.self(), m.subscription_id,
                           m.message, s.connection.serial, m.packet_id},
             nullptr);
}

// Gives the message a packet identifier no other in-flight message of the session holds,
// and sends it.
void SessionStore::start_inflight(Session& s, OutgoingMessage m) {
  auto in_use = [&](std::uint16_t id) {
    return std::any_of(s.inflight.begin(), s.inflight.end(),
                       [id](const OutgoingMessage& o) { return o.packet_id == id; });
  };
  do {
    if (++s.next_packet_id == 0) s.next_packet_id = 1;
  } while (in_use(s.next_packet_id));
  m.packet_id = s.next_packet_id;
  // Silence counts from the first message it has to acknowledge, not from its last ack.
  if (s.inflight.empty()) s.last_progress_tick = ctx_.tick;
  s.inflight.push_back(m);
  count_inflight(1);
  storage_.message_added(s.client_id, *m.message, m.qos, m.packet_id, m.retain, m.subscription_id);
  send_outgoing(s, s.inflight.back(), false);
}

void SessionStore::pump(Session& s) {
  while (s.online && !s.queue.empty() && s.inflight.size() < window(s)) {
    OutgoingMessage m = s.queue.front();
    s.queue.pop_front();
    count_queued(-1);
    s.queued_bytes -= m.message->payload().size() + m.message->topic().size();
    if (m.message->expires() && expired(m.message)) {  // waited in the queue too long
      m.message->release();
      continue;
    }
    start_inflight(s, m);
  }
  if (s.congested || s.queue.size() >= config_.max_queued_messages / 2 ||
      s.queued_bytes >= config_.max_queued_bytes / 2)
    update_congestion(s);
}

void SessionStore::inbound_qos2(Session* s, unsigned from, std::uint16_t packet_id, bool received) {
  // Sent before the connection's detach, which comes after it in the same ring.
  if (!s || !s->online || s->connection.shard != from) return;
  if (received)
    storage_.inbound_qos2_received(s->client_id, packet_id);
  else
    storage_.inbound_qos2_released(s->client_id, packet_id);
}

void SessionStore::client_ack(Session* s, ConnectionRef from, core::PacketType type,
                              std::uint16_t packet_id) {
  if (!s || !s->online || !(s->connection == from)) return;
  s->last_progress_tick = ctx_.tick;
  auto it = std::find_if(s->inflight.begin(), s->inflight.end(),
                         [&](const OutgoingMessage& m) { return m.packet_id == packet_id; });
  switch (type) {
    case core::PacketType::PubAck:
      if (it != s->inflight.end() && it->qos == 1) {
        it->message->release();
        s->inflight.erase(it);
        count_inflight(-1);
        storage_.message_done(s->client_id, packet_id);
      }
      break;
    case core::PacketType::PubRec:
      if (it != s->inflight.end() && it->qos == 2) {
        it->released = true;
        storage_.message_released(s->client_id, packet_id);
        send_outgoing(*s, *it, false);  // PUBREL
      }
      break;
    case core::PacketType::PubComp:
      if (it != s->inflight.end() && it->released) {
        it->message->release();
        s->inflight.erase(it);
        count_inflight(-1);
        storage_.message_done(s->client_id, packet_id);
      }
      break;
    case core::PacketType::Publish:
      // Not sent: over the client's Maximum Packet Size. Done with, as if delivered (MQTT 5
      // §3.1.2.11.4), so that it holds no place in the window.
      if (it != s->inflight.end() && !it->released) {
        it->message->release();
        s->inflight.erase(it);
        count_inflight(-1);
        storage_.message_done(s->client_id, packet_id);
      }
      break;
    default:
      break;
  }
  pump(*s);
  if (!s->retained_streams.empty()) pump_retained(*s);
}

}  // namespace shardmq::broker
