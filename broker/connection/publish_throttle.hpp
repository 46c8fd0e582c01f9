// A connection's publish buckets (limits.max_publish_rate, max_publish_bandwidth) and the
// timer that resumes reading from it once they are out of debt. Allocated on its first
// PUBLISH while either limit is set; a connection that never publishes pays nothing.
#pragma once

#include <cstddef>

#include "broker/limits/token_bucket.hpp"
#include "io/timer_wheel.hpp"

namespace shardmq::broker {

struct Connection;

struct PublishThrottle {
  TokenBucket packets;
  TokenBucket bytes;
  io::TimerNode resume;  // scheduled while reading is paused for the buckets
  Connection* connection = nullptr;

  static PublishThrottle* from_timer(io::TimerNode* n) {
    return reinterpret_cast<PublishThrottle*>(reinterpret_cast<char*>(n) -
                                              offsetof(PublishThrottle, resume));
  }
};

}  // namespace shardmq::broker
