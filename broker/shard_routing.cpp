// Routing: a publish is matched against this shard's subscriptions and carried, once, to
// each other shard that has at least one matching subscriber (by the interest they
// announced). Interest changes travel through the same FIFO rings as publishes. Also the
// ring plumbing: sending, backlogs under back-pressure, draining, barriers.
#include <algorithm>
#include <bit>

#include "broker/local_publish.hpp"
#include "broker/log.hpp"
#include "broker/shard.hpp"
#include "core/encoder.hpp"
#include "core/wire_writer.hpp"

namespace shardmq::broker {

bool Shard::route(const LocalPublish& p, Connection* publisher) {
  if (p.retain) retain(p);
  route_hit_congestion_ = false;
  const auto& r = find_route(p.topic);
  // Read before delivering: the route is not looked at again once delivery starts.
  std::uint64_t mask = r.remote_mask & ~(std::uint64_t(1) << id_);
  deliver_local(p, r);
  bool congested = route_hit_congestion_;
  if (!mask) return congested;
  PublishedMessage* m = p.shared();
  if (!m) {
    log_error("out of memory copying a publish for other shards");
    return congested;
  }
  m->add_ref(static_cast<std::uint32_t>(std::popcount(mask)));
  while (mask) {
    unsigned to = static_cast<unsigned>(std::countr_zero(mask));
    mask &= mask - 1;
    congested |= mesh_.congested(to);
    send_to(to,
            ShardEnvelope{ShardEnvelope::Kind::publish, 0, static_cast<std::uint16_t>(id_), 0, m},
            publisher);
  }
  return congested;
}

const Shard::Route& Shard::find_route(std::string_view topic) {
  bool hit = false;
  auto& r = routes_.lookup(topic, routes_version_, hit);
  if (hit) return r;
  subscriptions_.match(topic, [&](Session* const& s, const SubscriptionOptions& o) {
    r.subscribers.push_back(Target{s, o});
  });
  r.remote_mask = mesh_.shards() > 1 ? remote_interest_.match_mask(topic) : 0;
  return routes_.store(r);
}

void Shard::deliver_local(const LocalPublish& p, const Route& route) {
  ++match_stamp_;
  targets_.clear();
  for (const auto& [s, o] : route.subscribers) {
    if (o.no_local && reinterpret_cast<std::uintptr_t>(s) == p.origin_session) continue;
    if (s->match_stamp == match_stamp_) {
      // Overlapping subscriptions: one delivery at the highest QoS they grant.
      Target& t = targets_[s->target_index];
      if (o.max_qos > t.options.max_qos) t.options.max_qos = o.max_qos;
      if (!t.options.identifier) t.options.identifier = o.identifier;
      t.options.retain_as_published |= o.retain_as_published;
      continue;
    }
    s->match_stamp = match_stamp_;
    s->target_index = static_cast<std::uint32_t>(targets_.size());
    targets_.push_back(Target{s, o});
  }
  for (const Target& t : targets_) {
    std::uint8_t q = p.qos < t.options.max_qos ? p.qos : t.options.max_qos;
    deliver_to_session(*t.session, p, q, t.options.identifier,
                       t.options.retain_as_published && p.retain);
  }
}

bool Shard::write_publish(Connection& c, std::string_view topic, std::string_view properties,
                          std::string_view payload, std::uint8_t qos, std::uint16_t packet_id,
                          bool dup, bool retain, std::uint32_t subscription_id) {
  const bool v5 = c.version == core::ProtocolVersion::v5;
  std::size_t props_content = 0, props_block = 0;
  if (v5) {
    props_content =
        properties.size() + (subscription_id ? 1 + core::varint_size(subscription_id) : 0);
    props_block = core::varint_size(static_cast<std::uint32_t>(props_content)) + props_content;
  }
  std::size_t remaining = 2 + topic.size() + (qos ? 2 : 0) + props_block + payload.size();
  std::size_t total = 1 + core::varint_size(static_cast<std::uint32_t>(remaining)) + remaining;
  if (c.max_packet_out && total > c.max_packet_out) {
    ShardCounters::bump(counters_.messages_dropped);  // MQTT 5: too large for this client
    return false;
  }
  if (qos == 0 && c.out.queued() + total > config_.max_outbound_bytes) {
    ShardCounters::bump(counters_.messages_dropped);  // slow subscriber: QoS 0 is dropped
    return false;
  }
  core::WireWriter w(c.out.pending().reserve(total));
  w.u8(static_cast<std::uint8_t>(0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 1 : 0)));
  w.varint(static_cast<std::uint32_t>(remaining));
  w.string(topic);
  if (qos) w.u16(packet_id);
  if (v5) {
    w.varint(static_cast<std::uint32_t>(props_content));
    w.raw(properties.data(), properties.size());
    if (subscription_id) {
      w.u8(0x0B);
      w.varint(subscription_id);
    }
  }
  w.raw(payload.data(), payload.size());
  c.out.pending().grow(total);
  ShardCounters::bump(counters_.messages_sent);
  schedule_flush(c);
  return true;
}

bool Shard::add_subscription(Session& s, const std::string& filter, const SubscriptionOptions& o,
                             bool* existed) {
  *existed = false;
  if (s.subscriptions.update(filter, o)) {
    subscriptions_.insert(filter, &s, o);  // replaces the options
    ++routes_version_;
    *existed = true;
    return false;
  }
  s.subscriptions.add(filter, o);
  const std::size_t filters_before = subscriptions_.filter_count();
  subscriptions_.insert(filter, &s, o);
  ++routes_version_;
  ShardCounters::bump(counters_.subscriptions);
  // The shard's first subscriber on this filter: the other shards must route it here.
  if (subscriptions_.filter_count() > filters_before && mesh_.shards() > 1) {
    broadcast_interest(ShardEnvelope::Kind::interest_add, filter);
    return true;
  }
  return false;
}

bool Shard::remove_subscription(Session& s, const std::string& filter) {
  if (!s.subscriptions.remove(filter)) return false;
  const std::size_t filters_before = subscriptions_.filter_count();
  subscriptions_.erase(filter, &s);
  ++routes_version_;
  counters_.subscriptions.store(counters_.subscriptions.load(std::memory_order_relaxed) - 1,
                                std::memory_order_relaxed);
  if (subscriptions_.filter_count() < filters_before && mesh_.shards() > 1)
    broadcast_interest(ShardEnvelope::Kind::interest_remove, filter);
  return true;
}

void Shard::broadcast_interest(ShardEnvelope::Kind kind, const std::string& filter) {
  if (destroying_) return;
  for (unsigned to = 0; to < mesh_.shards(); ++to) {
    if (to == id_) continue;
    send_to(to,
            ShardEnvelope{kind, 0, static_cast<std::uint16_t>(id_), 0, new std::string(filter)});
  }
}

void Shard::send_to(unsigned to, const ShardEnvelope& e, Connection* publisher) {
  if (to == id_) {
    handle_envelope(e);  // this shard is the other end: no ring
    return;
  }
  push_to(to, e, publisher);
}

void Shard::push_to(unsigned to, const ShardEnvelope& e, Connection* publisher) {
  notify_mask_ |= std::uint64_t(1) << to;
  if (backlog_[to].empty() && mesh_.ring(id_, to).try_push(e)) return;
  // The ring is full: keep the envelope (order preserved) and stop reading from the
  // publisher until the other shard catches up.
  backlog_[to].push_back(e);
  mesh_.set_blocked(id_, to);
  if (publisher && !publisher->ring_paused && publisher->state != Connection::State::closing) {
    publisher->ring_paused = true;
    update_receive_pause(*publisher);
    paused_publishers_.emplace_back(publisher, publisher->serial);
  }
}

void Shard::flush_backlogs() {
  bool any_left = false;
  for (unsigned to = 0; to < mesh_.shards(); ++to) {
    auto& q = backlog_[to];
    if (q.empty()) continue;
    notify_mask_ |= std::uint64_t(1) << to;
    while (!q.empty() && mesh_.ring(id_, to).try_push(q.front()))
      q.pop_front();
    if (!q.empty()) {
      mesh_.set_blocked(id_, to);
      // Room may have appeared between the failed push and the flag: try once more.
      while (!q.empty() && mesh_.ring(id_, to).try_push(q.front()))
        q.pop_front();
      any_left |= !q.empty();
    }
  }
  std::uint64_t mask = notify_mask_;
  notify_mask_ = 0;
  while (mask) {
    unsigned to = static_cast<unsigned>(std::countr_zero(mask));
    mask &= mask - 1;
    mesh_.notify(to);
  }
  if (any_left || paused_publishers_.empty()) return;
  auto paused = std::move(paused_publishers_);
  paused_publishers_.clear();
  for (auto& [c, serial] : paused) {
    // A publisher that closed meanwhile was removed from the list in on_closed.
    if (c->serial == serial && c->ring_paused) {
      c->ring_paused = false;
      update_receive_pause(*c);
    }
  }
}

void Shard::drain_inbound() {
  for (unsigned from = 0; from < mesh_.shards(); ++from) {
    if (from == id_) continue;
    auto& ring = mesh_.ring(from, id_);
    std::size_t n = ring.drain([this](ShardEnvelope& e) { handle_envelope(e); }, 4096);
    if (n && mesh_.take_blocked(from, id_)) mesh_.wake(from);
  }
}

void Shard::handle_envelope(const ShardEnvelope& e) {
  using K = ShardEnvelope::Kind;
  switch (e.kind) {
    case K::publish: {
      LocalPublish p(static_cast<PublishedMessage*>(e.ptr));
      deliver_local(p, find_route(p.topic));
      return;
    }
    case K::retain_set: {
      auto* m = static_cast<PublishedMessage*>(e.ptr);
      std::uint64_t lamport = (std::uint64_t(e.target) << 32) | e.seq;
      if (lamport > lamport_) lamport_ = lamport;
      apply_retained(m, (lamport << 16) | e.from);
      m->release();
      return;
    }
    case K::interest_add:
    case K::interest_remove: {
      auto* f = static_cast<std::string*>(e.ptr);
      if (e.kind == K::interest_add)
        remote_interest_.add(*f, e.from);
      else
        remote_interest_.remove(*f, e.from);
      ++routes_version_;
      delete f;
      return;
    }
    case K::barrier:
      send_to(e.from, ShardEnvelope{K::barrier_ack, 0, static_cast<std::uint16_t>(id_), e.seq});
      return;
    case K::barrier_ack:
      barrier_acked_[e.from] = e.seq;
      complete_barriers();
      return;
    case K::attach:
      return session_attach(static_cast<AttachRequest*>(e.ptr));
    case K::detach:
      return session_detach(static_cast<DetachNotice*>(e.ptr));
    case K::subscribe:
      return session_subscribe(static_cast<SubscribeRequest*>(e.ptr));
    case K::unsubscribe:
      return session_unsubscribe(static_cast<UnsubscribeRequest*>(e.ptr));
    case K::client_ack:
      return session_client_ack(static_cast<Session*>(e.ptr), ConnectionRef{e.from, e.target},
                                static_cast<core::PacketType>(e.flags),
                                static_cast<std::uint16_t>(e.aux));
    case K::attached: {
      auto* reply = static_cast<AttachReply*>(e.ptr);
      Connection* c = connection_by_serial(reply->connection.serial);
      if (c && c->state == Connection::State::attaching) {
        complete_connect(*c, *reply);
      } else if (reply->session) {
        // The connection went while its CONNECT was on the way: let the session go.
        auto* n = new DetachNotice;
        n->session = reply->session;
        n->connection = reply->connection;
        n->qos2_awaiting_rel = std::move(reply->qos2_awaiting_rel);
        send_to(e.from, ShardEnvelope{K::detach, 0, static_cast<std::uint16_t>(id_), 0, n});
      }
      delete reply;
      return;
    }
    case K::deliver: {
      auto* m = static_cast<PublishedMessage*>(e.ptr);
      Connection* c = connection_by_serial(e.target);
      if (c && c->state == Connection::State::connected)
        write_publish(*c, m->topic(), m->properties(), m->payload(), e.flags & kDeliverQosMask,
                      static_cast<std::uint16_t>(e.aux), e.flags & kDeliverDup,
                      e.flags & kDeliverRetain, e.seq);
      m->release();
      return;
    }
    case K::release: {
      Connection* c = connection_by_serial(e.target);
      if (c && c->state == Connection::State::connected) {
        core::PubRel rel;
        rel.packet_id = static_cast<std::uint16_t>(e.aux);
        send_packet(*c, rel);
      }
      return;
    }
    case K::packet: {
      auto* p = static_cast<core::Packet*>(e.ptr);
      Connection* c = connection_by_serial(e.target);
      if (c && c->state == Connection::State::connected) {
        send_packet(*c, *p);
        if (c->home_paused) resume_later(*c);
      }
      delete p;
      return;
    }
    case K::kick: {
      Connection* c = connection_by_serial(e.target);
      if (c && c->state == Connection::State::connected) {
        send_disconnect(*c, core::ReasonCode::SessionTakenOver);
        close_connection(*c, CloseKind::graceful);
      }
      return;
    }
  }
}

std::uint32_t Shard::issue_barrier() {
  ++barrier_issued_;
  for (unsigned to = 0; to < mesh_.shards(); ++to) {
    if (to == id_) continue;
    send_to(to, ShardEnvelope{ShardEnvelope::Kind::barrier, 0, static_cast<std::uint16_t>(id_),
                              barrier_issued_});
  }
  return barrier_issued_;
}

void Shard::complete_barriers() {
  std::uint32_t done = barrier_issued_;
  for (unsigned p = 0; p < mesh_.shards(); ++p)
    if (p != id_ && barrier_acked_[p] < done) done = barrier_acked_[p];
  while (!pending_subscribes_.empty() && pending_subscribes_.front().barrier <= done) {
    SubscribeRequest* req = pending_subscribes_.front().request;
    pending_subscribes_.pop_front();
    finish_subscribe(req);
  }
}

}  // namespace shardmq::broker
