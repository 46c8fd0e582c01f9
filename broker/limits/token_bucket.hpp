// A token bucket for the configured rates (connects per address, publishes and bytes per
// connection): `rate` tokens a second, at most `burst` held. Kept in thousandths of a token
// so that a rate refills smoothly from millisecond timestamps, and allowed to go into debt
// so that one cost larger than the burst (a big message) is still taken, and only delays
// what follows.
#pragma once

#include <algorithm>
#include <cstdint>

namespace shardmq::broker {

class TokenBucket {
 public:
  // A burst of 0 is one second's worth of the rate.
  static std::uint64_t burst_or_default(std::uint32_t rate, std::uint32_t burst) {
    return std::max<std::uint64_t>(burst ? burst : rate, 1);
  }

  // Takes `cost` tokens if the bucket holds that many; false (nothing taken) otherwise.
  bool try_take(std::uint64_t cost, std::uint64_t now_ms, std::uint32_t rate, std::uint64_t burst) {
    refill(now_ms, rate, burst);
    if (level_ < static_cast<std::int64_t>(cost * 1000)) return false;
    level_ -= static_cast<std::int64_t>(cost * 1000);
    return true;
  }

  // Takes `cost` tokens whatever the bucket holds; returns the milliseconds until it is out
  // of debt again (0: it is not in debt).
  std::uint64_t take(std::uint64_t cost, std::uint64_t now_ms, std::uint32_t rate,
                     std::uint64_t burst) {
    refill(now_ms, rate, burst);
    level_ -= static_cast<std::int64_t>(cost * 1000);
    if (level_ >= 0) return 0;
    return (static_cast<std::uint64_t>(-level_) + rate - 1) / rate;
  }

  // Whether the bucket is full at `now_ms`: it then holds nothing worth keeping.
  bool full(std::uint64_t now_ms, std::uint32_t rate, std::uint64_t burst) const {
    if (!started_) return true;
    const auto cap = static_cast<std::int64_t>(burst * 1000);
    return now_ms - last_ms_ >= static_cast<std::uint64_t>(cap - level_) / rate + 1;
  }

 private:
  void refill(std::uint64_t now_ms, std::uint32_t rate, std::uint64_t burst) {
    const auto cap = static_cast<std::int64_t>(burst * 1000);
    if (!started_) {
      started_ = true;
      level_ = cap;
    } else if (now_ms > last_ms_) {
      // Bounded before multiplying: a long silence only fills the bucket.
      const std::uint64_t to_full = static_cast<std::uint64_t>(cap - std::min(level_, cap)) / rate;
      const std::uint64_t elapsed = std::min(now_ms - last_ms_, to_full + 1);
      level_ = std::min(cap, level_ + static_cast<std::int64_t>(elapsed * rate));
    }
    last_ms_ = std::max(last_ms_, now_ms);
  }

  std::int64_t level_ = 0;  // thousandths of a token; negative: in debt
  std::uint64_t last_ms_ = 0;
  bool started_ = false;  // a new bucket starts full
};

}  // namespace shardmq::broker
