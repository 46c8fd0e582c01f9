// The shared-subscription groups this shard owns. Each group ($share/{group}/{filter}) has
// one owner shard, XXH3 of "{group}/{filter}" modulo the shard count; the owner holds the
// member list and decides which member gets each message, so a message reaches exactly one
// member whichever shard it was published on. Members' sessions live on their own home
// shards and are named here by a handle there (SharedMember).
//
// Owns: the groups, their members and the index of their filters. Called by the
// subscription index (joins, leaves, state, lookups).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/routing/shared_choice.hpp"
#include "core/topic_index.hpp"

namespace shardmq::broker {

struct SharedGroup {
  std::string key;  // "{group}/{filter}"
  std::string filter;
  std::uint32_t id = 0;  // never reused on this shard: a bounced message names it
  std::vector<SharedMember> members;
  std::size_t online = 0;
  std::uint32_t cursor = 0;  // round robin
};

class SharedGroups {
 public:
  // Adds (or refreshes) a member; true when the filter is new to this shard's groups.
  bool join(std::string_view key, std::string_view filter, const SharedMember& m);
  // Removes the member (home, index). Returns its group while the group still has members,
  // else null; `filter_gone` is set when no group here has the member's filter any more
  // (then `filter` holds it).
  SharedGroup* leave(unsigned home, std::uint32_t index, bool& filter_gone, std::string& filter);
  void set_online(unsigned home, std::uint32_t index, bool online);

  SharedGroup* find(std::uint32_t id) {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second;
  }
  bool contains_filter(std::string_view filter) const { return index_.contains_filter(filter); }
  bool empty() const { return by_key_.empty(); }
  template <typename Fn>
  void match(std::string_view topic, Fn&& fn) const {
    index_.match(topic, [&](SharedGroup* const& g, const char&) { fn(g); });
  }

 private:
  static std::uint64_t member_key(unsigned home, std::uint32_t index) {
    return (std::uint64_t(home) << 32) | index;
  }

  std::unordered_map<std::string, std::unique_ptr<SharedGroup>> by_key_;
  std::unordered_map<std::uint32_t, SharedGroup*> by_id_;
  std::unordered_map<std::uint64_t, SharedGroup*> by_member_;
  core::TopicIndex<SharedGroup*, char> index_;
  std::uint32_t next_id_ = 1;
};

}  // namespace shardmq::broker
