// Which of this shard's sessions subscribe to what, which filters the other shards have
// subscribers for, and a cache of recent topics' matches. A filter that becomes new to this
// shard (or leaves it) is made known to the other shards, so each shard sends a publish once
// to each shard that wants it: a filter without wildcards by setting this shard's bit in the
// table all shards share (ExactInterest: nothing crosses the rings and no SUBACK waits), a
// wildcard filter by an announcement to every other shard through the rings (a SUBACK then
// waits for a barrier).
//
// The shared-subscription groups this shard owns (SharedGroups) are made known the same way
// as its own subscribers' filters, so publishes reach a group's owner like any subscriber.
//
// Owns: the topic index, the groups owned here, the other shards' wildcard interest, the
// route cache and its version.
// Calls: MeshLink (interest announcements), ExactInterest. Called by: the session store
// (changes), the router (lookups), the envelope dispatch (other shards' interest).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/routing/exact_interest.hpp"
#include "broker/routing/route_cache.hpp"
#include "broker/routing/shared_groups.hpp"
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
  using Route = RouteCache<Target, SharedGroup*>::Route;

  SubscriptionIndex(ShardContext& ctx, MeshLink& mesh);

  // A new (session, filter) pair; true when the filter is new to this shard and is a
  // wildcard filter the other shards were told of (a SUBACK then waits for a barrier).
  bool insert(const std::string& filter, Session* s, const SubscriptionOptions& o);
  // New options for a pair the index holds.
  void replace(const std::string& filter, Session* s, const SubscriptionOptions& o);
  void erase(const std::string& filter, Session* s);

  // Shared-subscription groups owned here (the caller is the owner shard). A join that
  // brings a wildcard filter new to this shard announces it and returns true (answer after a
  // barrier).
  bool shared_join(std::string_view key, std::string_view filter, const SharedMember& m);
  // The member's group while it still has members, else null.
  SharedGroup* shared_leave(unsigned home, std::uint32_t index);
  void shared_state(unsigned home, std::uint32_t index, bool online) {
    groups_.set_online(home, index, online);
  }
  SharedGroup* shared_group(std::uint32_t id) { return groups_.find(id); }

  // local_first: the members homed here of groups owned elsewhere, so that a publish entering
  // here goes straight to one of them; the owner, told of the same joins, leaves and presence
  // in the same order on the same ring, skips the group for publishes from here
  // (shared_dispatch.cpp).
  void local_member_join(std::string_view key, std::string_view filter, const SharedMember& m) {
    local_groups_.join(key, filter, m);
  }
  void local_member_leave(std::uint32_t index) {
    bool filter_gone = false;
    std::string filter;
    local_groups_.leave(ctx_.id, index, filter_gone, filter);
  }
  void local_member_state(std::uint32_t index, bool online) {
    local_groups_.set_online(ctx_.id, index, online);
  }
  bool has_local_members() const { return !local_groups_.empty(); }
  template <typename Fn>
  void match_local_groups(std::string_view topic, Fn&& fn) const {
    local_groups_.match(topic, fn);
  }

  // Another shard gained or lost its subscribers on the wildcard filter `filter`.
  void remote_interest(bool add, const std::string& filter, unsigned from);

  // The matches for `topic` here and the mask of other shards interested (from the cache
  // while nothing changed since), with this shard's own bit set when the publish has
  // shared-subscription work here. Valid until the next change or lookup.
  const Route& find_route(std::string_view topic) {
    bool hit = false;
    auto& r = routes_.lookup(topic, version_ + exact_.version(), hit);
    if (hit) return r;
    return match(r, topic);
  }

 private:
  const Route& match(Route& r, std::string_view topic);
  // The first (or last) interest in `filter` on this shard, subscribers and groups alike;
  // true when it went to the other shards through the rings (a wildcard filter).
  bool announce(bool add, const std::string& filter);

  ShardContext& ctx_;
  MeshLink& mesh_;
  ExactInterest& exact_;
  core::TopicIndex<Session*, SubscriptionOptions> subscriptions_;
  SharedGroups groups_;
  SharedGroups local_groups_;            // local_first only
  const bool shared_every_publish_;      // sticky and local_first look at every publish
  core::ShardInterest remote_interest_;  // wildcard filters only
  // Any change to the subscription index or to the remote wildcard interest bumps the
  // version, and any change to the exact interest bumps exact_.version(): a cached route is
  // used only while their sum is what it was (both only grow).
  RouteCache<Target, SharedGroup*> routes_;
  std::uint64_t version_ = 1;
};

}  // namespace shardmq::broker
