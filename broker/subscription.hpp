// A subscription as the shard's index stores it (value) and as its session lists it.
#pragma once

#include <cstdint>
#include <string>

namespace shardmq::broker {

struct SubscriptionOptions {
  std::uint8_t max_qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  std::uint32_t identifier = 0;  // MQTT 5 Subscription Identifier, 0: none
};

struct SubscriptionRecord {
  std::string filter;
  SubscriptionOptions options;
};

}  // namespace shardmq::broker
