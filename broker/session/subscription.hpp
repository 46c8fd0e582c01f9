// A subscription's options, as the shard's index stores them (value) and as its session lists them.
#pragma once

#include <cstdint>

namespace shardmq::broker {

struct SubscriptionOptions {
  std::uint8_t max_qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  std::uint32_t identifier = 0;  // MQTT 5 Subscription Identifier, 0: none
};

}  // namespace shardmq::broker
