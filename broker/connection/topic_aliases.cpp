#include "broker/connection/topic_aliases.hpp"

#include <xxhash.h>

namespace shardmq::broker {

void InboundAliases::set(std::uint16_t alias, std::string_view topic) {
  if (alias > topics_.size()) topics_.resize(alias);
  topics_[alias - 1].assign(topic);
}

// A linear scan over at most limits.max_topic_aliases_out (64) hashes: cheaper than a hash
// table at this size, and it finds the least recently used entry on the same pass.
OutboundAliases::Choice OutboundAliases::choose(std::string_view topic) {
  const std::uint64_t hash = XXH3_64bits(topic.data(), topic.size());
  std::size_t oldest = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    if (e.hash == hash && e.topic == topic) {
      e.last_used = ++clock_;
      return {static_cast<std::uint16_t>(i + 1), true, hash};
    }
    if (e.last_used < entries_[oldest].last_used) oldest = i;
  }
  std::size_t slot = entries_.size() < maximum_ ? entries_.size() : oldest;
  return {static_cast<std::uint16_t>(slot + 1), false, hash};
}

void OutboundAliases::assign(const Choice& c, std::string_view topic) {
  if (c.alias > entries_.size()) entries_.resize(c.alias);
  Entry& e = entries_[c.alias - 1];
  e.hash = c.hash;
  e.last_used = ++clock_;
  e.topic.assign(topic);
}

}  // namespace shardmq::broker
