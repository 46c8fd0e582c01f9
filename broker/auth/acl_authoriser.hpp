// AclAuthoriser: the Authoriser of a broker configured with an ACL file. Answers from the
// compiled rules (AclRules, shared read-only by every shard) through a small cache of recent
// decisions that belongs to this instance alone: each shard builds its own, so nothing here is
// shared or locked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "broker/auth/acl_rules.hpp"
#include "broker/auth/authoriser.hpp"

namespace shardmq::broker {

// A cache from (client id, user name, topic, access) to a decision: two-way set associative,
// the least recently used way replaced (direct-mapped lost a third of a working set half its
// size to collisions). A slot holds the whole key, compared byte for byte on every hit, so a
// hash collision can never hand one client another's answer. Keys longer than kKeyBytes are
// not cached (decided afresh each time). Memory is fixed at construction: slots x 128 bytes.
// When the working set is too large to hit (fewer than one lookup in eight over kWindow), the
// cache stands aside for the next kStandAside decisions, so it costs nearly nothing where it
// cannot help, and then tries again (as the route cache does).
class AclDecisionCache {
 public:
  static constexpr std::size_t kKeyBytes = 112;
  static constexpr std::uint32_t kWindow = 4096;
  static constexpr std::uint32_t kStandAside = 16384;

  // `slots` is rounded up to a power of two (at least 2); 0 makes a cache that holds nothing.
  explicit AclDecisionCache(std::size_t slots);

  // The cached decision, or nullopt on a miss.
  std::optional<bool> find(std::string_view client_id, std::optional<std::string_view> username,
                           std::string_view topic, AclAccess access);
  // Records the decision for the key of the last find() that missed.
  void store(bool allowed);
  void clear();

  std::size_t slot_count() const { return slots_.size(); }
  std::size_t memory_bytes() const { return slots_.capacity() * sizeof(Slot); }
  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t shape = 0;  // the key's lengths, access and user flag (kEmpty when unused)
    std::uint16_t key_size = 0;
    bool allowed = false;
    bool recent = false;  // the way of its set used last
    char key[kKeyBytes];  // client id, user name, topic, back to back
  };
  static_assert(sizeof(Slot) == 128);
  static constexpr std::uint32_t kEmpty = 0;

  Slot* set_of(std::uint64_t hash) { return &slots_[(hash & set_mask_) * 2]; }

  std::vector<Slot> slots_;  // sets of two adjacent slots
  std::size_t set_mask_ = 0;
  // The key of the last miss, kept for store().
  Slot pending_{};
  bool has_pending_ = false;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
  std::uint32_t window_lookups_ = 0;
  std::uint32_t window_hits_ = 0;
  std::uint32_t standing_aside_ = 0;  // decisions left to pass by
};

// Only when an ACL file is configured (this class exists) are client publishes to `$SYS` refused:
// without one shardmq restricts nothing.
class AclAuthoriser final : public Authoriser {
 public:
  // 1,024 slots: 128 KiB per shard.
  static constexpr std::size_t kDefaultCacheSlots = 1024;

  // `cache_slots` 0 turns the cache off.
  explicit AclAuthoriser(std::shared_ptr<const AclRules> rules,
                         std::size_t cache_slots = kDefaultCacheSlots);

  bool restricts() const override { return true; }
  // Topics only the broker publishes are refused before the rules are asked (see
  // broker_only_topic), as Mosquitto refuses them in front of its acl_file.
  bool may_publish(const ClientIdentity& who, std::string_view topic) override {
    return !broker_only_topic(topic) && decide(who, topic, AclAccess::write);
  }
  bool may_subscribe(const ClientIdentity& who, std::string_view filter) override {
    return decide(who, filter, AclAccess::subscribe);
  }
  bool may_receive(const ClientIdentity& who, std::string_view topic) override {
    return decide(who, topic, AclAccess::read);
  }

  // A reload (SIGHUP): the new rules, and every cached decision forgotten. Called on the
  // shard's own thread, like every other member.
  void replace_rules(std::shared_ptr<const AclRules> rules);

  const AclRules& rules() const { return *rules_; }
  const AclDecisionCache& cache() const { return cache_; }

  // `$SYS...` (the broker's own statistics) and `$share...` (a shared subscription's prefix,
  // never a topic), by the same byte prefixes Mosquitto 2.0 tests (acl__check_dollar), so
  // `$SYSTEM/x` is refused too. Mosquitto lets `$SYS/broker/connection/+/state` through for
  // its bridges' status; shardmq has no bridges, so that one is refused as well.
  static bool broker_only_topic(std::string_view topic);

 private:
  bool decide(const ClientIdentity& who, std::string_view topic, AclAccess access);

  std::shared_ptr<const AclRules> rules_;
  AclDecisionCache cache_;
};

}  // namespace shardmq::broker
