// Routing: a publish is matched against this shard's subscriptions and carried, once, to
// each other shard that has at least one matching subscriber (by the interest they
// announced). Interest changes travel through the same FIFO rings as publishes.
#include <algorithm>
#include <bit>

#include "broker/log.hpp"
#include "broker/shard.hpp"
#include "core/encoder.hpp"
#include "core/wire_writer.hpp"

namespace shardmq::broker {

void Shard::route(std::string_view topic, std::string_view properties, std::string_view payload,
                  std::uint8_t qos, Session* origin, Connection* publisher) {
  std::uint64_t origin_id = origin ? origin->id : 0;
  deliver_local(topic, properties, payload, qos, origin_id);
  std::uint64_t mask = remote_interest_.match_mask(topic) & ~(std::uint64_t(1) << id_);
  if (!mask) return;
  PublishedMessage* m = PublishedMessage::create(topic, properties, payload, qos, false, origin_id);
  if (!m) {
    log_error("out of memory copying a publish for other shards");
    return;
  }
  if (int n = std::popcount(mask); n > 1) m->add_ref(static_cast<std::uint32_t>(n - 1));
  while (mask) {
    unsigned to = static_cast<unsigned>(std::countr_zero(mask));
    mask &= mask - 1;
    push_to(to, ShardEnvelope{ShardEnvelope::Kind::publish, static_cast<std::uint16_t>(id_), 0, m},
            publisher);
  }
}

void Shard::deliver_local(std::string_view topic, std::string_view properties,
                          std::string_view payload, std::uint8_t qos,
                          std::uint64_t origin_session) {
  ++match_stamp_;
  targets_.clear();
  subscriptions_.match(topic, [&](Session* s, const SubscriptionOptions& o) {
    if (o.no_local && s->id == origin_session) return;
    if (s->match_stamp == match_stamp_) {
      // Overlapping subscriptions: one delivery at the highest QoS they grant.
      Target& t = targets_[s->target_index];
      if (o.max_qos > t.options.max_qos) t.options.max_qos = o.max_qos;
      if (!t.options.identifier) t.options.identifier = o.identifier;
      return;
    }
    s->match_stamp = match_stamp_;
    s->target_index = static_cast<std::uint32_t>(targets_.size());
    targets_.push_back(Target{s, o});
  });
  for (const Target& t : targets_) {
    Connection* c = t.session->connection;
    if (!c || c->state != Connection::State::connected) continue;
    std::uint8_t q = qos < t.options.max_qos ? qos : t.options.max_qos;
    write_publish(*c, topic, properties, payload, q, t.options.identifier);
  }
}

void Shard::write_publish(Connection& c, std::string_view topic, std::string_view properties,
                          std::string_view payload, std::uint8_t qos,
                          std::uint32_t subscription_id) {
  const bool v5 = c.version == core::ProtocolVersion::v5;
  std::size_t props_content = 0, props_block = 0;
  if (v5) {
    props_content = properties.size() + (subscription_id ? 1 + core::varint_size(subscription_id) : 0);
    props_block = core::varint_size(static_cast<std::uint32_t>(props_content)) + props_content;
  }
  std::size_t remaining = 2 + topic.size() + (qos ? 2 : 0) + props_block + payload.size();
  std::size_t total = 1 + core::varint_size(static_cast<std::uint32_t>(remaining)) + remaining;
  if (c.max_packet_out && total > c.max_packet_out) {
    ShardCounters::bump(counters_.messages_dropped);  // MQTT 5: too large for this client
    return;
  }
  if (qos == 0 && c.out.queued() + total > config_.max_outbound_bytes) {
    ShardCounters::bump(counters_.messages_dropped);  // slow subscriber: QoS 0 is dropped
    return;
  }
  core::WireWriter w(c.out.pending().reserve(total));
  w.u8(static_cast<std::uint8_t>(0x30 | (qos << 1)));
  w.varint(static_cast<std::uint32_t>(remaining));
  w.string(topic);
  if (qos) {
    if (++c.next_packet_id == 0) c.next_packet_id = 1;
    w.u16(c.next_packet_id);
  }
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
}

bool Shard::add_subscription(Session& s, const std::string& filter, const SubscriptionOptions& o) {
  for (SubscriptionRecord& r : s.subscriptions) {
    if (r.filter == filter) {
      r.options = o;
      subscriptions_.insert(filter, &s, o);  // replaces the options
      return false;
    }
  }
  s.subscriptions.push_back(SubscriptionRecord{filter, o});
  subscriptions_.insert(filter, &s, o);
  ShardCounters::bump(counters_.subscriptions);
  if (++filter_refs_[filter] == 1 && mesh_.shards() > 1) {
    broadcast_interest(ShardEnvelope::Kind::interest_add, filter);
    return true;
  }
  return false;
}

bool Shard::remove_subscription(Session& s, const std::string& filter) {
  auto it = std::find_if(s.subscriptions.begin(), s.subscriptions.end(),
                         [&](const SubscriptionRecord& r) { return r.filter == filter; });
  if (it == s.subscriptions.end()) return false;
  *it = std::move(s.subscriptions.back());
  s.subscriptions.pop_back();
  subscriptions_.erase(filter, &s);
  counters_.subscriptions.store(counters_.subscriptions.load(std::memory_order_relaxed) - 1,
                                std::memory_order_relaxed);
  auto ref = filter_refs_.find(filter);
  if (ref != filter_refs_.end() && --ref->second == 0) {
    filter_refs_.erase(ref);
    if (mesh_.shards() > 1) broadcast_interest(ShardEnvelope::Kind::interest_remove, filter);
  }
  return true;
}

void Shard::broadcast_interest(ShardEnvelope::Kind kind, const std::string& filter) {
  for (unsigned to = 0; to < mesh_.shards(); ++to) {
    if (to == id_) continue;
    push_to(to, ShardEnvelope{kind, static_cast<std::uint16_t>(id_), 0, new std::string(filter)},
            nullptr);
  }
}

void Shard::push_to(unsigned to, const ShardEnvelope& e, Connection* publisher) {
  notify_mask_ |= std::uint64_t(1) << to;
  if (backlog_[to].empty() && mesh_.ring(id_, to).try_push(e)) return;
  // The ring is full: keep the envelope (order preserved) and stop reading from the
  // publisher until the other shard catches up.
  backlog_[to].push_back(e);
  mesh_.set_blocked(id_, to);
  if (publisher && !publisher->recv_paused && publisher->state != Connection::State::closing) {
    publisher->recv_paused = true;
    loop_->pause_recv(publisher->socket);
    paused_publishers_.emplace_back(publisher, publisher->serial);
  }
}

void Shard::flush_backlogs() {
  bool any_left = false;
  for (unsigned to = 0; to < mesh_.shards(); ++to) {
    auto& q = backlog_[to];
    while (!q.empty() && mesh_.ring(id_, to).try_push(q.front())) {
      q.pop_front();
      notify_mask_ |= std::uint64_t(1) << to;
    }
    if (!q.empty()) {
      any_left = true;
      mesh_.set_blocked(id_, to);
      // Room may have appeared between the failed push and the flag: try once more.
      while (!q.empty() && mesh_.ring(id_, to).try_push(q.front())) q.pop_front();
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
  for (auto& [c, serial] : paused_publishers_) {
    // A publisher that closed meanwhile was removed from this list in on_closed.
    if (c->serial == serial && c->recv_paused && c->state != Connection::State::closing) {
      c->recv_paused = false;
      loop_->resume_recv(c->socket);
    }
  }
  paused_publishers_.clear();
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
  switch (e.kind) {
    case ShardEnvelope::Kind::publish: {
      auto* m = static_cast<PublishedMessage*>(e.ptr);
      deliver_local(m->topic(), m->properties(), m->payload(), m->qos(), m->origin_session());
      m->release();
      return;
    }
    case ShardEnvelope::Kind::interest_add: {
      auto* f = static_cast<std::string*>(e.ptr);
      remote_interest_.add(*f, e.from);
      delete f;
      return;
    }
    case ShardEnvelope::Kind::interest_remove: {
      auto* f = static_cast<std::string*>(e.ptr);
      remote_interest_.remove(*f, e.from);
      delete f;
      return;
    }
    case ShardEnvelope::Kind::barrier:
      push_to(e.from, ShardEnvelope{ShardEnvelope::Kind::barrier_ack,
                                    static_cast<std::uint16_t>(id_), e.seq, nullptr},
              nullptr);
      return;
    case ShardEnvelope::Kind::barrier_ack:
      barrier_acked_[e.from] = e.seq;
      complete_barriers();
      return;
    case ShardEnvelope::Kind::session_op:
      return;
  }
}

std::uint32_t Shard::issue_barrier() {
  ++barrier_issued_;
  for (unsigned to = 0; to < mesh_.shards(); ++to) {
    if (to == id_) continue;
    push_to(to, ShardEnvelope{ShardEnvelope::Kind::barrier, static_cast<std::uint16_t>(id_),
                              barrier_issued_, nullptr},
            nullptr);
  }
  return barrier_issued_;
}

void Shard::complete_barriers() {
  std::uint32_t done = barrier_issued_;
  for (unsigned p = 0; p < mesh_.shards(); ++p)
    if (p != id_ && barrier_acked_[p] < done) done = barrier_acked_[p];
  while (!pending_subacks_.empty() && pending_subacks_.front().barrier <= done) {
    PendingAck& a = pending_subacks_.front();
    if (a.connection && a.connection->state == Connection::State::connected)
      send_packet(*a.connection, a.suback);
    pending_subacks_.pop_front();
  }
}

}  // namespace shardmq::broker
