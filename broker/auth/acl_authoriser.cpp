#include "broker/auth/acl_authoriser.hpp"

#include <xxhash.h>

#include <bit>
#include <cstring>

namespace shardmq::broker {

// ---------------------------------------------------------------------------
// AclDecisionCache

AclDecisionCache::AclDecisionCache(std::size_t slots) {
  if (slots == 0) return;
  slots_.resize(std::bit_ceil(slots < 2 ? 2 : slots));
  set_mask_ = slots_.size() / 2 - 1;
}

std::optional<bool> AclDecisionCache::find(std::string_view client_id,
                                           std::optional<std::string_view> username,
                                           std::string_view topic, AclAccess access) {
  has_pending_ = false;
  const std::size_t user_size = username ? username->size() : 0;
  const std::size_t total = client_id.size() + user_size + topic.size();
  if (slots_.empty() || total > kKeyBytes) return std::nullopt;
  if (standing_aside_ != 0) {
    --standing_aside_;
    return std::nullopt;
  }
  if (++window_lookups_ == kWindow) {
    if (window_hits_ < kWindow / 8) standing_aside_ = kStandAside;
    window_lookups_ = 0;
    window_hits_ = 0;
  }

  // The key back to back in one buffer, so it is hashed once; the lengths, the access and
  // whether there is a user name (an empty one is not none) go into `shape`, which seeds the
  // hash and is compared too, so "ab"+"c" and "a"+"bc" are different keys.
  Slot& p = pending_;
  char* k = p.key;
  std::memcpy(k, client_id.data(), client_id.size());
  k += client_id.size();
  if (username) std::memcpy(k, username->data(), user_size);
  k += user_size;
  std::memcpy(k, topic.data(), topic.size());
  p.key_size = static_cast<std::uint16_t>(total);
  p.shape = 1u | (static_cast<std::uint32_t>(access) << 1) | (username ? 8u : 0u) |
            (static_cast<std::uint32_t>(client_id.size()) << 4) |
            (static_cast<std::uint32_t>(user_size) << 11);
  p.hash = XXH3_64bits_withSeed(p.key, total, p.shape);

  Slot* set = set_of(p.hash);
  for (int way = 0; way < 2; ++way) {
    const Slot& s = set[way];
    if (s.shape == p.shape && s.hash == p.hash && s.key_size == p.key_size &&
        std::memcmp(s.key, p.key, total) == 0) {
      set[way].recent = true;
      set[1 - way].recent = false;
      ++hits_;
      ++window_hits_;
      return s.allowed;
    }
  }
  ++misses_;
  has_pending_ = true;
  return std::nullopt;
}

void AclDecisionCache::store(bool allowed) {
  if (!has_pending_) return;
  has_pending_ = false;
  Slot* set = set_of(pending_.hash);
  const int way = set[0].recent ? 1 : 0;  // the least recently used (or never used) way
  set[way].recent = true;
  set[1 - way].recent = false;
  Slot& s = set[way];
  s.hash = pending_.hash;
  s.shape = pending_.shape;
  s.key_size = pending_.key_size;
  s.allowed = allowed;
  std::memcpy(s.key, pending_.key, pending_.key_size);
}

void AclDecisionCache::clear() {
  for (Slot& s : slots_) {
    s.shape = kEmpty;
    s.recent = false;
  }
  has_pending_ = false;
  window_lookups_ = 0;
  window_hits_ = 0;
  standing_aside_ = 0;
}

// ---------------------------------------------------------------------------
// AclAuthoriser

AclAuthoriser::AclAuthoriser(std::shared_ptr<const AclRules> rules, std::size_t cache_slots)
    : rules_(std::move(rules)), cache_(cache_slots) {}

void AclAuthoriser::replace_rules(std::shared_ptr<const AclRules> rules) {
  rules_ = std::move(rules);
  cache_.clear();
}

bool AclAuthoriser::broker_only_topic(std::string_view topic) {
  return topic.starts_with("$SYS") || topic.starts_with("$share");
}

bool AclAuthoriser::decide(const ClientIdentity& who, std::string_view topic, AclAccess access) {
  // A SUBSCRIBE is once per filter, not per message: it does not take a slot from the reads
  // and writes that repeat.
  if (access == AclAccess::subscribe) {
    return rules_->allows(who.client_id, who.username, topic, access);
  }
  if (const std::optional<bool> hit = cache_.find(who.client_id, who.username, topic, access)) {
    return *hit;
  }
  const bool allowed = rules_->allows(who.client_id, who.username, topic, access);
  cache_.store(allowed);
  return allowed;
}

}  // namespace shardmq::broker
