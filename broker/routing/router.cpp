#include "broker/routing/router.hpp"

#include <algorithm>
#include <bit>
#include <string>

#include "broker/log.hpp"
#include "broker/mesh/mesh_link.hpp"
#include "broker/message/local_publish.hpp"
#include "broker/retained/retained_store.hpp"
#include "broker/session/session.hpp"
#include "broker/session/session_store.hpp"
#include "broker/storage/storage_link.hpp"
#include "core/encoder.hpp"
#include "core/wire_writer.hpp"

namespace shardmq::broker {

Router::Router(ShardContext& ctx, SubscriptionIndex& index, SessionStore& sessions,
               RetainedStore& retained, MeshLink& mesh, StorageLink& storage)
    : ctx_(ctx),
      id_(ctx.id),
      index_(index),
      sessions_(sessions),
      retained_(retained),
      mesh_(mesh),
      storage_(storage),
      strategy_(ctx.config.shared_strategy),
      sticky_(ctx.config.shared_subscriptions && strategy_ == SharedStrategy::sticky),
      local_first_(ctx.config.shared_subscriptions && strategy_ == SharedStrategy::local_first) {}

void Router::route(const LocalPublish& p, Connection* publisher) {
  if (p.retain) retained_.retain(p);
  const auto& r = index_.find_route(p.topic);
  // Read before delivering: the route is not looked at again once delivery starts.
  const std::uint64_t mask = r.remote_mask;
  // This shard's own bit: shared-subscription work (SubscriptionIndex::match).
  const std::uint64_t self = std::uint64_t(1) << id_;
  if (mask & self) [[unlikely]]
    return route_shared(p, r, publisher, mask & ~self);
  deliver_local(p, r);
  if (mask) push_remote(p, mask, 0, publisher);
}

void Router::push_remote(const LocalPublish& p, std::uint64_t mask, std::uint32_t publisher_hash,
                         Connection* publisher) {
  PublishedMessage* m = p.shared();
  if (!m) {
    log_error("out of memory copying a publish for other shards");
    return;
  }
  m->add_ref(static_cast<std::uint32_t>(std::popcount(mask)));
  // "sync": the publisher's acknowledgement waits until these shards confirm this ticket.
  ShardEnvelope e{ShardEnvelope::Kind::publish, 0, ctx_.self(), publisher_hash, m};
  if (p.qos) e.set_ticket(storage_.peers().sent(mask));
  while (mask) {
    unsigned to = static_cast<unsigned>(std::countr_zero(mask));
    mask &= mask - 1;
    mesh_.push(to, e, publisher);
  }
}

void Router::route_arrived(PublishedMessage* m, unsigned from, std::uint32_t publisher_hash) {
  LocalPublish p(m);
  const auto& r = index_.find_route(p.topic);
  if (!r.groups.empty()) [[unlikely]]
    deliver_shared(p, r, from, publisher_hash);
  deliver_local(p, r);
}

// One sample a message on each shard that writes it to subscribers (not one a subscriber),
// taken when the turn's writes go out (DeliveryLatency).
inline void Router::record_latency(const LocalPublish& p) {
  if (!targets_.empty()) ctx_.delivery_latency.delivered(p.arrived_us);
}

void Router::deliver_local(const LocalPublish& p, const SubscriptionIndex::Route& route) {
  // Overlapping subscriptions of one session give one delivery at the highest QoS they
  // grant; the session's match stamp says whether it is a target already.
  ++match_stamp_;
  targets_.clear();
  extra_identifiers_.clear();
  for (const auto& [s, o] : route.subscribers) {
    if (o.no_local && reinterpret_cast<std::uintptr_t>(s) == p.origin_session) continue;
    if (s->match_stamp == match_stamp_) {
      Target& t = targets_[s->target_index];
      if (o.max_qos > t.options.max_qos) t.options.max_qos = o.max_qos;
      if (o.identifier && o.identifier != t.options.identifier) {
        if (!t.options.identifier)
          t.options.identifier = o.identifier;
        else if (std::find(extra_identifiers_.begin(), extra_identifiers_.end(),
                           std::pair{s->target_index, o.identifier}) == extra_identifiers_.end())
          extra_identifiers_.emplace_back(s->target_index, o.identifier);
      }
      t.options.retain_as_published |= o.retain_as_published;
      continue;
    }
    s->match_stamp = match_stamp_;
    s->target_index = static_cast<std::uint32_t>(targets_.size());
    targets_.push_back(Target{s, o});
  }
  if (extra_identifiers_.empty()) [[likely]] {
    for (const Target& t : targets_)
      sessions_.deliver(*t.session, p, p.qos < t.options.max_qos ? p.qos : t.options.max_qos,
                        t.options.identifier, t.options.retain_as_published && p.retain);
    record_latency(p);
    return;
  }
  for (std::uint32_t i = 0; i < targets_.size(); ++i) {
    const Target& t = targets_[i];
    std::uint8_t q = p.qos < t.options.max_qos ? p.qos : t.options.max_qos;
    if (std::any_of(extra_identifiers_.begin(), extra_identifiers_.end(),
                    [i](const auto& e) { return e.first == i; }))
      deliver_with_identifiers(p, t, i, q);
    else
      sessions_.deliver(*t.session, p, q, t.options.identifier,
                        t.options.retain_as_published && p.retain);
  }
  record_latency(p);
}

void Router::deliver_with_identifiers(const LocalPublish& p, const Target& t, std::uint32_t index,
                                      std::uint8_t qos) {
  std::string properties(p.properties);
  for (const auto& [target, identifier] : extra_identifiers_) {
    if (target != index) continue;
    const std::size_t at = properties.size();
    properties.resize(at + 1 + core::varint_size(identifier));
    core::WireWriter w(reinterpret_cast<std::byte*>(properties.data() + at));
    w.u8(static_cast<std::uint8_t>(core::PropertyId::SubscriptionIdentifier));
    w.varint(identifier);
  }
  PublishedMessage* copy =
      PublishedMessage::create(p.topic, properties, p.payload, p.qos, p.retain, p.origin_session);
  if (!copy) return;
  if (p.expires) {
    if (const PublishedMessage* m = p.shared())
      copy->arm_expiry(m->expiry_offset(), m->expires_at_ms());  // the same place, the same end
  }
  LocalPublish with_all(copy);  // adopts the reference
  sessions_.deliver(*t.session, with_all, qos, t.options.identifier,
                    t.options.retain_as_published && p.retain);
}

}  // namespace shardmq::broker
