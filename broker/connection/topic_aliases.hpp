// MQTT 5 Topic Aliases of one connection (§3.3.2.3.4), both directions, allocated the first
// time a client uses one or the broker assigns one (most connections never do).
//
// Inbound: the client's aliases, up to limits.max_topic_aliases (the Topic Alias Maximum the
// CONNACK advertised). Outbound: the broker's, up to the lower of the client's Topic Alias
// Maximum and limits.max_topic_aliases_out, given to the topics the client is sent most
// recently (least recently used alias reassigned). Neither carries over to another
// connection of the same client, as the specification requires.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shardmq::broker {

class InboundAliases {
 public:
  // The topic the client set for `alias` (1..maximum), or null when it set none.
  const std::string* find(std::uint16_t alias) const {
    return alias <= topics_.size() && !topics_[alias - 1].empty() ? &topics_[alias - 1] : nullptr;
  }
  // Reuses the slot's capacity: a client that sends topic and alias every time allocates
  // only while its topics grow.
  void set(std::uint16_t alias, std::string_view topic);

 private:
  std::vector<std::string> topics_;  // by alias - 1, grown up to the highest alias used
};

class OutboundAliases {
 public:
  explicit OutboundAliases(std::uint16_t maximum) : maximum_(maximum) {}

  // What a PUBLISH to `topic` should carry: `alias` (never 0), and `known` when the client
  // already holds that alias for this topic (send an empty topic), else send topic and
  // alias and call assign() once it is written.
  struct Choice {
    std::uint16_t alias;
    bool known;
    std::uint64_t hash;
  };
  Choice choose(std::string_view topic);
  void assign(const Choice& c, std::string_view topic);

 private:
  struct Entry {
    std::uint64_t hash = 0;
    std::uint64_t last_used = 0;
    std::string topic;
  };
  std::vector<Entry> entries_;  // alias i + 1; at most maximum_
  std::uint64_t clock_ = 0;
  std::uint16_t maximum_;
};

struct TopicAliases {
  InboundAliases in;
  OutboundAliases out;
  explicit TopicAliases(std::uint16_t out_maximum) : out(out_maximum) {}
};

}  // namespace shardmq::broker
