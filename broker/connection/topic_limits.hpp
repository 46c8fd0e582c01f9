// The configured bounds on what a client may name: limits.max_topic_length and
// max_topic_levels, for a PUBLISH topic and a SUBSCRIBE filter alike (0: no bound beyond
// MQTT's own). Checked on the connection's shard before anything else sees the topic.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "broker/config/config.hpp"

namespace shardmq::broker {

inline bool topic_within_limits(std::string_view topic, const Config& config) {
  if (config.max_topic_length && topic.size() > config.max_topic_length) return false;
  if (config.max_topic_levels &&
      static_cast<std::size_t>(std::count(topic.begin(), topic.end(), '/')) + 1 >
          config.max_topic_levels)
    return false;
  return true;
}

}  // namespace shardmq::broker
