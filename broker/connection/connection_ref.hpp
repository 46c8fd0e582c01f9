// Where a client's connection lives: its shard and the connection's serial there (serials
// start at 1, so a zero serial names no connection).
#pragma once

#include <cstdint>

namespace shardmq::broker {

struct ConnectionRef {
  std::uint16_t shard = 0;
  std::uint32_t serial = 0;
  bool operator==(const ConnectionRef&) const = default;
};

}  // namespace shardmq::broker
