// The publish-to-delivery latency samples of one loop turn (shardmq_publish_delivery_seconds).
// A message's delivery writes are queued while the turn runs and go out together at its end,
// so each sample is taken then, with one clock read a turn rather than one a message: the
// parts that deliver note the message's arrival stamp (delivered), the shard closes the turn
// (end_turn). Stamps come one a receive, so a turn's stamps run in few distinct values, kept
// as (stamp, count) runs: no allocation once the runs' vector has grown to a turn's worth.
// Owner thread only, like the histogram it fills.
#pragma once

#include <cstdint>
#include <vector>

#include "broker/metrics/histogram.hpp"

namespace shardmq::broker {

class DeliveryLatency {
 public:
  // A message arrived at `arrived_us` (steady_now_us; 0: no stamp, a will or $SYS) was
  // written to subscribers on this shard in this turn.
  void delivered(std::uint64_t arrived_us) {
    if (!arrived_us) return;
    if (!runs_.empty() && runs_.back().arrived_us == arrived_us)
      ++runs_.back().count;
    else
      runs_.push_back(Run{arrived_us, 1});
  }

  bool pending() const { return !runs_.empty(); }

  // The turn's writes are handed to the kernel at `now_us`: one sample per delivered message.
  void end_turn(std::uint64_t now_us, Histogram& into) {
    for (const Run& r : runs_)
      into.record(now_us > r.arrived_us ? now_us - r.arrived_us : 0, r.count);
    runs_.clear();
  }

 private:
  struct Run {
    std::uint64_t arrived_us;
    std::uint64_t count;
  };
  std::vector<Run> runs_;
};

}  // namespace shardmq::broker
