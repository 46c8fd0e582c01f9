// Mosquitto's $SYS "load" figures: how many of something happened per minute, as moving
// averages over 1, 5 and 15 minutes. Each update takes the running total and the seconds
// since the last one; the rate over that interval moves each average by 1 - e^(-dt/T), so
// a steady rate r per minute brings all three to r, the 1-minute one soonest.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace shardmq::broker {

class LoadAverage {
 public:
  static constexpr std::array<double, 3> kPeriodsS = {60, 300, 900};
  static constexpr std::array<const char*, 3> kNames = {"1min", "5min", "15min"};

  // The first call only remembers the total (a start-up burst is not a rate).
  void update(std::uint64_t total, double elapsed_s) {
    if (started_ && elapsed_s > 0) {
      const double per_minute = double(total - last_) * 60.0 / elapsed_s;
      for (std::size_t i = 0; i < kPeriodsS.size(); ++i)
        averages_[i] += (1.0 - std::exp(-elapsed_s / kPeriodsS[i])) * (per_minute - averages_[i]);
    }
    started_ = true;
    last_ = total;
  }
  bool ready() const { return started_; }
  double per_minute(std::size_t period) const { return averages_[period]; }

 private:
  std::array<double, 3> averages_{};
  std::uint64_t last_ = 0;
  bool started_ = false;
};

}  // namespace shardmq::broker
