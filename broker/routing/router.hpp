// The publish path on a shard: a message is kept if retained, matched against this shard's
// subscriptions and delivered to each matching session here, and carried, once, to each
// other shard with at least one matching subscriber (by the interest they announced).
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
struct Connection;
struct LocalPublish;
class PublishedMessage;

class Router {
 public:
  Router(ShardContext& ctx, SubscriptionIndex& index, SessionStore& sessions,
         RetainedStore& retained, MeshLink& mesh);

  // A publish that entered the broker on this shard (from `publisher`, or null for a will
  // or $SYS). True when a subscriber it reached is congested: the publisher's
  // acknowledgement should wait (SessionStore::deliver).
  bool route(const LocalPublish& p, Connection* publisher);
  // A publish another shard carried here: delivered to this shard's subscribers only.
  // Adopts the envelope's reference.
  void route_arrived(PublishedMessage* m);

 private:
  using Target = SubscriptionIndex::Target;
  // Delivers to this shard's subscribers among the route's matches.
  bool deliver_local(const LocalPublish& p, const SubscriptionIndex::Route& route);
  // A session with several matching subscriptions that carry identifiers gets one copy with
  // all of them (MQTT 5 3.3.4): the others travel in a copy of the properties.
  bool deliver_with_identifiers(const LocalPublish& p, const Target& t, std::uint32_t index,
                                std::uint8_t qos);

  ShardContext& ctx_;
  const unsigned id_;  // copied from the context: one load on the message path, not two
  SubscriptionIndex& index_;
  SessionStore& sessions_;
  RetainedStore& retained_;
  MeshLink& mesh_;
  // Scratch for matching: who gets this publish (reused, no allocation after warm-up).
  std::vector<Target> targets_;
  // (target index, identifier): identifiers of a target's further matching subscriptions.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> extra_identifiers_;
  std::uint64_t match_stamp_ = 0;
};

}  // namespace shardmq::broker
