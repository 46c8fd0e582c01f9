// Which publishing connections each congested session holds back: a live subscriber whose
// QoS 1/2 queue is full keeps its publishers from being read until the queue drains
// (SessionStore::hold_publisher). One entry per (session, publisher), so a publisher is
// paused once per session however many of its messages wait, and let go once.
//
// Owns: the entries (allocated when a publisher is first held, not per message). Knows
// nothing of connections or rings: the session store sends the hold and its release.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "broker/connection/connection_ref.hpp"

namespace shardmq::broker {

class PublisherHolds {
 public:
  // True when `publisher` was not yet held for `session`: the caller pauses it.
  bool add(const void* session, ConnectionRef publisher) {
    if (!held_.insert(Key{session, pack(publisher)}).second) return false;
    by_session_[session].push_back(publisher);
    return true;
  }
  // Forgets every publisher `session` holds, handing each to `let_go` (to resume it).
  template <typename LetGo>
  void release(const void* session, LetGo&& let_go) {
    auto it = by_session_.find(session);
    if (it == by_session_.end()) return;
    std::vector<ConnectionRef> publishers = std::move(it->second);
    by_session_.erase(it);
    for (ConnectionRef p : publishers) {
      held_.erase(Key{session, pack(p)});
      let_go(p);
    }
  }
  bool holds(const void* session) const { return by_session_.contains(session); }
  std::size_t size() const { return held_.size(); }  // (session, publisher) pairs

 private:
  static std::uint64_t pack(ConnectionRef c) { return (std::uint64_t(c.shard) << 32) | c.serial; }
  struct Key {
    const void* session;
    std::uint64_t publisher;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<const void*>{}(k.session) ^ (k.publisher * 0x9E3779B97F4A7C15ull);
    }
  };
  std::unordered_set<Key, KeyHash> held_;
  std::unordered_map<const void*, std::vector<ConnectionRef>> by_session_;
};

}  // namespace shardmq::broker
