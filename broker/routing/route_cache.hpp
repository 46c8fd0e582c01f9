// RouteCache: where recently published topics went on this shard, so that a topic published
// again skips the walk of the subscription index and of the other shards' interest. Sensors
// and services publish to the same few topics over and over; matching was the largest part
// of the broker's CPU per message.
//
// An entry holds the topic, the raw (session, options) pairs the index matched, and the mask
// of other shards interested. It is valid while its version equals the shard's routing
// version, which every change to the subscription index or to the remote interest bumps, so
// a stale route is never used (and session pointers in it are never read once the session
// may be gone: ending a session removes its subscriptions first, which bumps the version).
//
// The cached pairs are the index's matches as they stand; a choice made per publish (such as
// picking one member of a shared-subscription group) belongs after the lookup and must never
// be stored here: a route holds the groups it matched, not their members.
//
// Direct-mapped by topic hash: a miss costs one hash and one compare, then the entry is
// filled in place (its string and vector keep their capacity, so a warm cache allocates
// nothing). When topics rarely repeat (a million devices, each on its own topic) the cache
// turns itself off for a while: lookups then go straight to the index and cost nothing here.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <xxhash.h>

namespace shardmq::broker {

template <typename Subscriber, typename Group = const void*>
class RouteCache {
 public:
  struct Route {
    std::uint64_t version = 0;  // 0: never filled
    std::uint64_t hash = 0;
    std::string topic;
    std::uint64_t remote_mask = 0;
    std::vector<Subscriber> subscribers;  // as the index matched them, overlaps included
    // Shared-subscription groups owned here. Cleared by whoever fills the route after a
    // miss, not by lookup(): the hit path stays as small as it was without them.
    std::vector<Group> groups;
  };

  // Routes with more subscribers, and longer topics, are matched afresh each time and never
  // held by a slot: a shard's cache holds at most slots x (256 B + 256 x subscriber) bytes
  // (about 2.2 MB for 512 slots), plus one scratch route as large as the largest match.
  static constexpr std::size_t kMaxSubscribers = 256;
  static constexpr std::size_t kMaxTopic = 256;
  // Every kWindow lookups: with fewer than kWindow / 8 hits, bypass the next kPause lookups.
  static constexpr std::uint32_t kWindow = 1024;
  static constexpr std::uint32_t kPause = 16 * 1024;

  explicit RouteCache(std::size_t slots = 512) : slots_(std::bit_ceil(slots)) {}

  // The route for `topic`: a current cached one (`hit` true), or one to fill by matching
  // (`hit` false) and then pass to store(). `version` must not be 0.
  Route& lookup(std::string_view topic, std::uint64_t version, bool& hit) {
    hit = false;
    if (topic.size() > kMaxTopic) return scratch();
    if (pause_left_) {
      --pause_left_;
      return scratch();
    }
    if (++lookups_ == kWindow) {
      const bool rarely = hits_ < kWindow / 8;
      lookups_ = hits_ = 0;
      if (rarely) {
        pause_left_ = kPause;
        return scratch();
      }
    }
    const std::uint64_t hash = XXH3_64bits(topic.data(), topic.size());
    Route& r = slots_[hash & (slots_.size() - 1)];
    if (r.version == version && r.hash == hash && r.topic == topic) {
      ++hits_;
      hit = true;
      return r;
    }
    r.version = 0;  // filled by the caller, kept only through store()
    r.hash = hash;
    r.topic.clear();  // then append: g++ 12 -O3 misreads assign() here (-Wrestrict)
    r.topic.append(topic);
    r.remote_mask = 0;
    r.subscribers.clear();
    pending_version_ = version;
    return r;
  }

  // Keeps `r`, just filled after a miss, for later lookups, and returns the route to use:
  // `r`, or the scratch route holding its contents when it is too large for a slot (the
  // slot then gives back any memory past its bound).
  Route& store(Route& r) {
    if (&r == &scratch_) return r;
    if (r.subscribers.size() + r.groups.size() <= kMaxSubscribers) {
      r.version = pending_version_;
      return r;
    }
    scratch_.subscribers.swap(r.subscribers);
    scratch_.groups.swap(r.groups);
    scratch_.remote_mask = r.remote_mask;
    r.subscribers.clear();
    r.groups.clear();
    if (r.subscribers.capacity() > kMaxSubscribers) std::vector<Subscriber>().swap(r.subscribers);
    return scratch_;
  }

  bool paused() const { return pause_left_ != 0; }

 private:
  Route& scratch() {
    scratch_.remote_mask = 0;
    scratch_.subscribers.clear();
    return scratch_;
  }

  std::vector<Route> slots_;
  Route scratch_;
  std::uint64_t pending_version_ = 0;
  std::uint32_t lookups_ = 0;
  std::uint32_t hits_ = 0;
  std::uint32_t pause_left_ = 0;
};

}  // namespace shardmq::broker
