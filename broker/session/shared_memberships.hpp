// The shared-subscription memberships of the sessions homed on this shard. The group's
// owner shard names a member by its slot here (index and generation), so a message it sends
// for a member that has since left is recognised and sent back instead of reaching whoever
// holds the slot now.
//
// Owns: one slot per (session, $share filter). Called by the session store.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/session/subscription.hpp"

namespace shardmq::broker {

struct Session;

struct SharedMembership {
  Session* session = nullptr;  // null: a free slot
  SubscriptionOptions options;
  std::uint32_t generation = 0;
  std::uint16_t owner = 0;  // the group's owner shard
};

class SharedMemberships {
 public:
  static constexpr std::uint32_t kNone = ~0u;

  std::uint32_t add(Session* s, std::string_view filter, const SubscriptionOptions& o,
                    unsigned owner) {
    std::uint32_t i;
    if (!free_.empty()) {
      i = free_.back();
      free_.pop_back();
    } else {
      i = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    SharedMembership& m = slots_[i];
    m.session = s;
    m.options = o;
    ++m.generation;
    m.owner = static_cast<std::uint16_t>(owner);
    by_name_.emplace(name(s, filter), i);
    return i;
  }
  std::uint32_t find(const Session* s, std::string_view filter) const {
    auto it = by_name_.find(name(s, filter));
    return it == by_name_.end() ? kNone : it->second;
  }
  SharedMembership& at(std::uint32_t index) { return slots_[index]; }
  // The slot the owner chose, if it still holds that member.
  SharedMembership* current(std::uint32_t index, std::uint32_t generation) {
    if (index >= slots_.size()) return nullptr;
    SharedMembership& m = slots_[index];
    return m.session && m.generation == generation ? &m : nullptr;
  }
  void remove(std::uint32_t index, std::string_view filter) {
    SharedMembership& m = slots_[index];
    by_name_.erase(name(m.session, filter));
    m.session = nullptr;
    free_.push_back(index);
  }
  bool empty() const { return by_name_.empty(); }

 private:
  static std::string name(const Session* s, std::string_view filter) {
    std::string n(sizeof s, '\0');
    n.replace(0, sizeof s, reinterpret_cast<const char*>(&s), sizeof s);
    n.append(filter);
    return n;
  }

  std::vector<SharedMembership> slots_;
  std::vector<std::uint32_t> free_;
  std::unordered_map<std::string, std::uint32_t> by_name_;
};

}  // namespace shardmq::broker
