// Sessions homed on this shard: attach and takeover, subscriptions, and the outgoing
// QoS 1/2 window with its queue. Whatever shard the client's socket is on, these run here,
// so one client identifier has exactly one owner.
#include <algorithm>

#include "broker/local_publish.hpp"
#include "broker/log.hpp"
#include "broker/shard.hpp"

namespace shardmq::broker {

using core::ProtocolVersion;
using core::ReasonCode;

void Shard::session_attach(AttachRequest* req) {
  Session* s = sessions_.find(req->client_id);
  if (s && s->online) {
    // Takeover: close the current connection, finish when it has let go of the session.
    if (s->pending) {
      // Two new connections raced: the older waiting one loses.
      auto* lost = new AttachReply;
      lost->connection = s->pending->connection;
      send_to(lost->connection.shard, ShardEnvelope{ShardEnvelope::Kind::attached, 0,
                                                    static_cast<std::uint16_t>(id_), 0, lost});
    }
    s->pending.reset(req);
    log_info("client '{}' connected again: taking the session over", s->client_id.view());
    send_to(s->connection.shard,
            ShardEnvelope{ShardEnvelope::Kind::kick, 0, static_cast<std::uint16_t>(id_), 0, nullptr,
                          s->connection.serial, 0});
    return;
  }
  finish_attach(s, *req);
  delete req;
}

void Shard::finish_attach(Session* s, AttachRequest& req) {
  bool present = false;
  if (s) {
    if (req.clean_start)
      clear_session_state(*s);
    else
      present = true;
  } else {
    s = session_slab_.create();
    s->client_id.assign(req.client_id);
    sessions_.insert(s);
  }
  std::vector<std::uint16_t> qos2_awaiting_rel;
  if (s->away) {  // back from away: stop its expiry, hand its QoS 2 state to the connection
    session_timers_.cancel(s->away->expiry_timer);
    qos2_awaiting_rel = std::move(s->away->qos2_awaiting_rel);
    s->away.reset();
  }
  s->online = true;
  s->last_progress_tick = tick_;
  s->local_connection = nullptr;  // set by complete_connect when the socket is here
  s->connection = req.connection;
  s->version = req.version;
  s->receive_maximum = req.receive_maximum ? req.receive_maximum : 65535;
  s->expiry_s = req.session_expiry_s;
  auto* reply = new AttachReply;
  reply->connection = req.connection;
  reply->session = s;
  reply->session_present = present;
  reply->qos2_awaiting_rel = std::move(qos2_awaiting_rel);
  send_to(req.connection.shard, ShardEnvelope{ShardEnvelope::Kind::attached, 0,
                                              static_cast<std::uint16_t>(id_), 0, reply});
  // On this shard the answer is handled at once, and a connection that is already gone
  // hands the session straight back, which may end it: look it up again before using it.
  if (sessions_.find(req.client_id) != s || !s->online || !(s->connection == req.connection))
    return;
  // Unacknowledged messages go again, in their original order (PUBLISH with DUP, or PUBREL).
  for (OutgoingMessage& m : s->inflight)
    send_outgoing(*s, m, true);
  pump_session(*s);
}

void Shard::session_detach(DetachNotice* n) {
  Session* s = n->session;
  if (!s->online || !(s->connection == n->connection)) {
    delete n;  // a connection that no longer holds the session
    return;
  }
  s->online = false;
  s->local_connection = nullptr;
  update_congestion(*s);
  if (!n->qos2_awaiting_rel.empty())
    s->away_state().qos2_awaiting_rel = std::move(n->qos2_awaiting_rel);
  s->retained_streams.clear();  // sent again on the next SUBSCRIBE, not queued
  delete n;
  if (s->pending) {
    std::unique_ptr<AttachRequest> req = std::move(s->pending);
    finish_attach(s, *req);
  } else if (s->expiry_s == 0) {
    destroy_session(s);
  } else if (s->expiry_s != 0xFFFFFFFFu) {
    session_timers_.schedule(s->away_state().expiry_timer, tick_ + std::uint64_t(s->expiry_s) * 10);
  }
}

void Shard::clear_session_state(Session& s) {
  while (!s.subscriptions.empty()) {
    std::string f((*s.subscriptions.begin()).filter);
    remove_subscription(s, f);
  }
  for (auto& m : s.inflight)
    m.message->release();
  for (auto& m : s.queue)
    m.message->release();
  s.inflight.clear();
  s.queue.clear();
  s.queued_bytes = 0;
  if (s.away) s.away->qos2_awaiting_rel.clear();
}

void Shard::destroy_session(Session* s) {
  if (s->away) session_timers_.cancel(s->away->expiry_timer);
  // A SUBSCRIBE still waiting for its barrier must not reach a freed session.
  for (PendingSubscribe& p : pending_subscribes_)
    if (p.request->session == s) p.request->session = nullptr;
  if (s->congested) std::erase(congested_sessions_, s);
  if (s->in_stream_list) std::erase(streaming_sessions_, s);
  s->retained_streams.clear();
  clear_session_state(*s);
  sessions_.erase(s);
  session_slab_.destroy(s);
}

std::uint16_t Shard::session_window(const Session& s) const {
  return std::min<std::uint16_t>(config_.max_inflight, s.receive_maximum);
}

void Shard::deliver_to_session(Session& s, const LocalPublish& p, std::uint8_t qos,
                               std::uint32_t subscription_id, bool retain) {
  if (qos == 0) {
    if (!s.online) return;  // QoS 0 is not queued for absent clients (as Mosquitto)
    if (s.connection.shard == id_) {
      // The hot path: straight from the receive buffer into the subscriber's output.
      if (Connection* c = s.local_connection; c && c->state == Connection::State::connected)
        write_publish(*c, p.topic, p.properties, p.payload, 0, 0, false, retain, subscription_id);
      return;
    }
    PublishedMessage* m = p.shared();
    if (!m) return;
    m->add_ref();
    send_to(
        s.connection.shard,
        ShardEnvelope{ShardEnvelope::Kind::deliver,
                      static_cast<std::uint8_t>(retain ? kDeliverRetain : 0),
                      static_cast<std::uint16_t>(id_), subscription_id, m, s.connection.serial, 0});
    return;
  }
  PublishedMessage* m = p.shared();
  if (!m) return;
  OutgoingMessage out{m, qos, retain, subscription_id, 0, false};
  if (s.online && s.queue.empty() && s.inflight.size() < session_window(s)) {
    m->add_ref();
    start_inflight(s, out);
    return;
  }
  std::size_t bytes = m->payload().size() + m->topic().size();
  if (s.queue.size() >= config_.max_queued_messages ||
      s.queued_bytes + bytes > config_.max_queued_bytes) {
    // Reached only by an absent client or one that stopped acknowledging: a live, slow
    // subscriber holds its publishers back first (update_congestion).
    ShardCounters::bump(counters_.messages_dropped);  // documented policy: newest dropped
    return;
  }
  m->add_ref();
  s.queue.push_back(out);
  s.queued_bytes += bytes;
  if (s.online) update_congestion(s);
  if (s.congested) route_hit_congestion_ = true;
}

// A live subscriber whose queue passes half the limit while it keeps acknowledging is
// "congested": publishers routed to it get their PUBACK/PUBREC later, so their own windows
// slow them down. One that stops acknowledging for 2 s no longer holds anyone back: its
// queue fills and drops, as an absent client's would.
void Shard::update_congestion(Session& s) {
  const std::size_t high = std::max<std::size_t>(config_.max_queued_messages / 2, 1);
  const std::size_t low = high / 2;
  const bool acking = tick_ - s.last_progress_tick < 20;
  bool want = s.online && acking && (s.congested ? s.queue.size() > low : s.queue.size() >= high);
  if (want == s.congested) return;
  s.congested = want;
  if (want) {
    congested_sessions_.push_back(&s);
    if (congested_sessions_.size() == 1) mesh_.set_congested(id_, true);
    return;
  }
  std::erase(congested_sessions_, &s);
  if (congested_sessions_.empty()) {
    mesh_.set_congested(id_, false);
    for (unsigned i = 0; i < mesh_.shards(); ++i)
      if (i != id_) mesh_.wake(i);  // their held acks may go now
  }
}

void Shard::send_publish_ack(Connection& c, std::uint32_t held) {
  auto id = static_cast<std::uint16_t>(held & 0xFFFF);
  if (held & 0x10000) {
    core::PubRec rec;
    rec.packet_id = id;
    send_packet(c, rec);
  } else {
    core::PubAck ack;
    ack.packet_id = id;
    send_packet(c, ack);
  }
}

void Shard::release_held_acks() {
  if (!congested_sessions_.empty()) return;
  for (unsigned i = 0; i < mesh_.shards(); ++i)
    if (i != id_ && mesh_.congested(i)) return;
  auto held = std::move(held_ack_connections_);
  held_ack_connections_.clear();
  for (Connection* c : held) {
    c->in_held_list = false;
    if (!c->inbound) continue;  // (listed only after inbound_qos(): always set)
    if (c->state == Connection::State::connected)
      for (std::uint32_t h : c->inbound->held_acks)
        send_publish_ack(*c, h);
    c->inbound->held_acks.clear();
  }
}

void Shard::send_outgoing(Session& s, OutgoingMessage& m, bool dup) {
  if (!s.online) return;
  if (s.connection.shard == id_) {
    Connection* c = s.local_connection;
    if (!c || c->state != Connection::State::connected) return;
    if (m.released) {
      core::PubRel rel;
      rel.packet_id = m.packet_id;
      send_packet(*c, rel);
      return;
    }
    write_publish(*c, m.message->topic(), m.message->properties(), m.message->payload(), m.qos,
                  m.packet_id, dup, m.retain, m.subscription_id);
    return;
  }
  if (m.released) {
    send_to(s.connection.shard,
            ShardEnvelope{ShardEnvelope::Kind::release, 0, static_cast<std::uint16_t>(id_), 0,
                          nullptr, s.connection.serial, m.packet_id});
    return;
  }
  m.message->add_ref();
  std::uint8_t flags =
      static_cast<std::uint8_t>(m.qos | (dup ? kDeliverDup : 0) | (m.retain ? kDeliverRetain : 0));
  send_to(s.connection.shard,
          ShardEnvelope{ShardEnvelope::Kind::deliver, flags, static_cast<std::uint16_t>(id_),
                        m.subscription_id, m.message, s.connection.serial, m.packet_id});
}

// Gives the message a packet identifier no other in-flight message of the session holds,
// and sends it.
void Shard::start_inflight(Session& s, OutgoingMessage m) {
  auto in_use = [&](std::uint16_t id) {
    return std::any_of(s.inflight.begin(), s.inflight.end(),
                       [id](const OutgoingMessage& o) { return o.packet_id == id; });
  };
  do {
    if (++s.next_packet_id == 0) s.next_packet_id = 1;
  } while (in_use(s.next_packet_id));
  m.packet_id = s.next_packet_id;
  s.inflight.push_back(m);
  send_outgoing(s, s.inflight.back(), false);
}

void Shard::pump_session(Session& s) {
  while (s.online && !s.queue.empty() && s.inflight.size() < session_window(s)) {
    OutgoingMessage m = s.queue.front();
    s.queue.pop_front();
    s.queued_bytes -= m.message->payload().size() + m.message->topic().size();
    start_inflight(s, m);
  }
  if (s.congested || s.queue.size() >= config_.max_queued_messages / 2) update_congestion(s);
}

void Shard::session_client_ack(Session* s, ConnectionRef from, core::PacketType type,
                               std::uint16_t packet_id) {
  if (!s || !s->online || !(s->connection == from)) return;
  s->last_progress_tick = tick_;
  auto it = std::find_if(s->inflight.begin(), s->inflight.end(),
                         [&](const OutgoingMessage& m) { return m.packet_id == packet_id; });
  switch (type) {
    case core::PacketType::PubAck:
      if (it != s->inflight.end() && it->qos == 1) {
        it->message->release();
        s->inflight.erase(it);
      }
      break;
    case core::PacketType::PubRec:
      if (it != s->inflight.end() && it->qos == 2) {
        it->released = true;
        send_outgoing(*s, *it, false);  // PUBREL
      }
      break;
    case core::PacketType::PubComp:
      if (it != s->inflight.end() && it->released) {
        it->message->release();
        s->inflight.erase(it);
      }
      break;
    default:
      break;
  }
  pump_session(*s);
  if (!s->retained_streams.empty()) pump_retained(*s);
}

void Shard::session_subscribe(SubscribeRequest* req) {
  Session* s = req->session;
  if (!s->online || !(s->connection == req->connection)) {
    delete req;
    return;
  }
  bool new_interest = false;
  for (SubscribeRequest::Item& item : req->items) {
    if (item.filter.starts_with("$share/")) {
      item.granted = s->version == ProtocolVersion::v5
                         ? static_cast<std::uint8_t>(ReasonCode::SharedSubscriptionsNotSupported)
                         : 0x80;
      continue;
    }
    bool existed = false;
    new_interest |= add_subscription(*s, item.filter, item.options, &existed);
    item.existed = existed;
    item.granted = item.options.max_qos;
  }
  if (mesh_.shards() > 1 && (new_interest || !pending_subscribes_.empty())) {
    // Answer once every shard routes the new filters here (and keep SUBACKs in order).
    std::uint32_t b = new_interest ? issue_barrier() : barrier_issued_;
    pending_subscribes_.push_back(PendingSubscribe{b, req});
    complete_barriers();
    return;
  }
  finish_subscribe(req);
}

void Shard::finish_subscribe(SubscribeRequest* req) {
  Session* s = req->session;
  if (!s || !s->online || !(s->connection == req->connection)) {
    delete req;
    return;
  }
  auto* ack = new core::Packet(core::SubAck{});
  auto& suback = std::get<core::SubAck>(*ack);
  suback.packet_id = req->packet_id;
  for (const auto& item : req->items)
    suback.reason_codes.push_back(static_cast<ReasonCode>(item.granted));
  send_to(req->connection.shard,
          ShardEnvelope{ShardEnvelope::Kind::packet, 0, static_cast<std::uint16_t>(id_), 0, ack,
                        req->connection.serial, 0});
  for (const auto& item : req->items) {
    if (item.granted > 2) continue;
    bool send =
        item.retain_handling == core::RetainHandling::SendOnSubscribe ||
        (item.retain_handling == core::RetainHandling::SendIfNewSubscription && !item.existed);
    if (send)
      s->retained_streams.push_back(RetainedStream{retained_.start(item.filter), item.options});
  }
  delete req;
  pump_retained(*s);
}

void Shard::session_unsubscribe(UnsubscribeRequest* req) {
  Session* s = req->session;
  if (!s->online || !(s->connection == req->connection)) {
    delete req;
    return;
  }
  auto* ack = new core::Packet(core::UnsubAck{});
  auto& unsuback = std::get<core::UnsubAck>(*ack);
  unsuback.packet_id = req->packet_id;
  for (const std::string& f : req->filters) {
    bool had = remove_subscription(*s, f);
    if (s->version == ProtocolVersion::v5)
      unsuback.reason_codes.push_back(had ? ReasonCode::Success
                                          : ReasonCode::NoSubscriptionExisted);
  }
  send_to(req->connection.shard,
          ShardEnvelope{ShardEnvelope::Kind::packet, 0, static_cast<std::uint16_t>(id_), 0, ack,
                        req->connection.serial, 0});
  delete req;
}

}  // namespace shardmq::broker

namespace shardmq::broker {

// Whether the subscriber can take more retained messages now: its QoS 1/2 queue is not
// filling up, and its socket's output (when on this shard) is draining.
bool Shard::retained_room(Session& s) {
  if (!s.online || s.queue.size() >= config_.max_queued_messages / 2) return false;
  if (s.connection.shard == id_) {
    Connection* c = s.local_connection;
    return c && c->out.queued() < config_.max_outbound_bytes / 2;
  }
  return retained_turn_budget_ > 0;
}

void Shard::pump_retained(Session& s) {
  constexpr std::size_t kChunk = 256;
  while (s.online && !s.retained_streams.empty()) {
    if (!retained_room(s)) {
      if (!s.in_stream_list) {
        s.in_stream_list = true;
        streaming_sessions_.push_back(&s);
      }
      return;
    }
    RetainedStream& st = s.retained_streams.front();
    std::size_t n = 0;
    bool done = retained_.resume(st.cursor, [&](std::string_view, const RetainedMessage& r) {
      PublishedMessage* m = r.message();
      m->add_ref();
      LocalPublish p(m);
      std::uint8_t qos = p.qos < st.options.max_qos ? p.qos : st.options.max_qos;
      deliver_to_session(s, p, qos, st.options.identifier, true);
      if (s.connection.shard != id_ && retained_turn_budget_ > 0) --retained_turn_budget_;
      return ++n < kChunk && retained_room(s);
    });
    if (done) s.retained_streams.pop_front();
  }
}

}  // namespace shardmq::broker
