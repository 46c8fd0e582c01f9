// What the broker remembers about a client beyond one socket: its identifier and its
// subscriptions. (Persistent sessions with offline queues build on this.)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "broker/subscription.hpp"

namespace shardmq::broker {

struct Connection;

struct Session {
  std::string client_id;
  std::uint64_t id = 0;  // unique in the process: (shard << 48) | serial
  std::vector<SubscriptionRecord> subscriptions;
  Connection* connection = nullptr;  // null while the client is away
  // Matching scratch: whether this session is already a target of the publish being routed.
  std::uint64_t match_stamp = 0;
  std::uint32_t target_index = 0;
};

}  // namespace shardmq::broker
