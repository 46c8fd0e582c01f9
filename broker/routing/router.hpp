// The publish path on a shard: a message is kept if retained, matched against this shard's
// subscriptions and delivered to each matching session here, and carried, once, to each
// other shard with at least one matching subscriber (by the interest they announced).
//
// A shared-subscription group owned here gets each matching publish once and passes it to
// one member (shared_dispatch.cpp), on this shard or, by envelope, on the member's home.
//
// Owns: the per-publish matching scratch. Calls: RetainedStore, SubscriptionIndex,
// SessionStore (deliveries), MeshLink. Called by: the protocol (PUBLISH, wills), $SYS, and
// the envelope dispatch (publishes from other shards).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "broker/routing/subscription_index.hpp"
#include "broker/shard/shard_context.hpp"

namespace shardmq::broker {

class MeshLink;
class RetainedStore;
class SessionStore;
class StorageLink;
struct Connection;
struct LocalPublish;
class PublishedMessage;
struct SharedLeave;

class Router {
 public:
  Router(ShardContext& ctx, SubscriptionIndex& index, SessionStore& sessions,
         RetainedStore& retained, MeshLink& mesh, StorageLink& storage);

  // A publish that entered the broker on this shard (from `publisher`, or null for a will
  // or $SYS). A subscriber whose queue is full holds the publisher back itself
  // (SessionStore::deliver, hold_publisher); the publisher also stops being read while an
  // envelope of it waits for room in a full ring (MeshLink::push).
  void route(const LocalPublish& p, Connection* publisher);
  // A publish another shard (`from`) carried here: delivered to this shard's subscribers and
  // groups only. Adopts the envelope's reference. `publisher_hash`: see route().
  void route_arrived(PublishedMessage* m, unsigned from, std::uint32_t publisher_hash);

  // Shared subscriptions, as the group's owner (shared_dispatch.cpp): a member's home sent
  // back a message for a member gone or away, or a member left with messages for another.
  void shared_bounce(PublishedMessage* m, std::uint32_t group_id);
  void shared_leave(SharedLeave* leave, unsigned from);

 private:
  using Target = SubscriptionIndex::Target;
  // Delivers to this shard's subscribers among the route's matches.
  void deliver_local(const LocalPublish& p, const SubscriptionIndex::Route& route);
  void record_latency(const LocalPublish& p);
  // A session with several matching subscriptions that carry identifiers gets one copy with
  // all of them (MQTT 5 3.3.4): the others travel in a copy of the properties.
  void deliver_with_identifiers(const LocalPublish& p, const Target& t, std::uint32_t index,
                                std::uint8_t qos);
  // One reference of the shared copy to each shard in `mask` (the publish envelope).
  void push_remote(const LocalPublish& p, std::uint64_t mask, std::uint32_t publisher_hash,
                   Connection* publisher);
  // route() once shared subscriptions are involved (shared_dispatch.cpp).
  void route_shared(const LocalPublish& p, const SubscriptionIndex::Route& r, Connection* publisher,
                    std::uint64_t mask);
  // One member of each group in the route; one member of `g`.
  void deliver_shared(const LocalPublish& p, const SubscriptionIndex::Route& route, unsigned from,
                      std::uint32_t publisher_hash);
  void dispatch(SharedGroup& g, const LocalPublish& p, unsigned from, std::uint32_t publisher_hash);
  // local_first: to a member homed here of each matching group owned elsewhere.
  void deliver_local_first(const LocalPublish& p);

  ShardContext& ctx_;
  const unsigned id_;  // copied from the context: one load on the message path, not two
  SubscriptionIndex& index_;
  SessionStore& sessions_;
  RetainedStore& retained_;
  MeshLink& mesh_;
  StorageLink& storage_;
  const SharedStrategy strategy_;
  // Sticky groups choose by the publisher's client identifier, hashed where it published.
  const bool sticky_;
  const bool local_first_;
  // Scratch for matching: who gets this publish (reused, no allocation after warm-up).
  std::vector<Target> targets_;
  // (target index, identifier): identifiers of a target's further matching subscriptions.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> extra_identifiers_;
  std::uint64_t match_stamp_ = 0;
};

}  // namespace shardmq::broker
