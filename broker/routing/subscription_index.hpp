// Which of this shard's sessions subscribe to what, which filters the other shards have
// subscribers for, and a cache of recent topics' matches. A filter that becomes new to this
// shard (or leaves it) is announced to every other shard through the rings, so each shard
// sends a publish once to each shard that wants it.
//
// Owns: the topic index, the other shards' interest, the route cache and its version.
// Calls: MeshLink (interest announcements). Called by: the session store (changes), the
// router (lookups), the envelope dispatch (other shards' interest).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/routing/route_cache.hpp"
#include "broker/session/subscription.hpp"
#include "broker/shard/shard_context.hpp"
#include "core/shard_interest.hpp"
#include "core/topic_index.hpp"

namespace shardmq::broker {

class MeshLink;
struct Session;

class SubscriptionIndex {
 public:
  struct Target {
    Session* session;
    SubscriptionOptions options;
  };
  using Route = RouteCache<Target>::Route;

  SubscriptionIndex(ShardContext& ctx, MeshLink& mesh);

  // A new (session, filter) pair; true when the filter is new to this shard and the other
  // shards were told (a SUBACK then waits for a barrier).
  bool insert(const std::string& filter, Session* s, const SubscriptionOptions& o);
  // New options for a pair the index holds.
  void replace(const std::string& filter, Session* s, const SubscriptionOptions& o);
  void erase(const std::string& filter, Session* s);

  // Another shard gained or lost its subscribers on `filter`.
  void remote_interest(bool add, const std::string& filter, unsigned from);

  // The matches for `topic` here and the mask of other shards interested (from the cache
  // while nothing changed since). Valid until the next change or lookup.
  const Route& find_route(std::string_view topic) {
    bool hit = false;
    auto& r = routes_.lookup(topic, version_, hit);
    if (hit) return r;
    return match(r, topic);
  }

 private:
  const Route& match(Route& r, std::string_view topic);

  ShardContext& ctx_;
  MeshLink& mesh_;
  core::TopicIndex<Session*, SubscriptionOptions> subscriptions_;
  core::ShardInterest remote_interest_;
  // Any change to the subscription index or to the remote interest bumps the version,
  // which retires every cached route.
  RouteCache<Target> routes_;
  std::uint64_t version_ = 1;
};

}  // namespace shardmq::broker
