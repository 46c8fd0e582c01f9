// The publish-to-delivery latency samples of one loop turn (shardmq_publish_delivery_seconds),
// with two clock reads a turn rather than two a message. A message is stamped with the turn
// that received it (arrival_us: the clock read at the turn's first receive, since the turn
// took all its receives from the kernel together) and sampled at the end of the turn that
// wrote it to subscribers (end_turn: the turn's writes go to the kernel together then). The
// parts that deliver note each message's stamp (delivered); stamps come one a turn, so they
// are kept as (stamp, count) runs, the current one in place and earlier ones in a vector
// that, once grown to a turn's worth, allocates no more. Owner thread only, like the histogram it
// fills.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "broker/metrics/histogram.hpp"
#include "io/steady_now.hpp"

namespace shardmq::broker {

// The latency clock (io/steady_now.hpp: a stamp one shard takes another can read).
inline std::uint64_t steady_now_us() {
  return io::steady_now<std::chrono::microseconds>();
}

class DeliveryLatency {
 public:
  // The arrival stamp of what this turn receives (read once, at its first receive).
  std::uint64_t arrival_us() {
    if (!turn_us_) turn_us_ = steady_now_us();
    return turn_us_;
  }

  // A message stamped `arrived_us` (0: no stamp, a will or $SYS) was written to
  // subscribers on this shard in this turn. On the message path: a compare and an add while
  // the stamp is the current run's.
  void delivered(std::uint64_t arrived_us) {
    if (arrived_us == run_.arrived_us) [[likely]] {
      ++run_.count;
      return;
    }
    start_run(arrived_us);
  }

  bool pending() const { return (run_.arrived_us && run_.count) || !runs_.empty(); }

  // The turn's writes are handed to the kernel: one sample per delivered message.
  void end_turn(Histogram& into) {
    if (pending()) record(steady_now_us(), into);
    reset();
  }
  // end_turn with the clock read given (the unit tests' clock).
  void end_turn_at(std::uint64_t now_us, Histogram& into) {
    record(now_us, into);
    reset();
  }

 private:
  struct Run {
    std::uint64_t arrived_us = 0;  // 0: unstamped messages, counted here but not sampled
    std::uint64_t count = 0;
  };
  void record(std::uint64_t now_us, Histogram& into) {
    start_run(0);  // the current run joins the others
    for (const Run& r : runs_)
      into.record(now_us > r.arrived_us ? now_us - r.arrived_us : 0, r.count);
    runs_.clear();
  }
  void reset() {
    run_ = Run{};
    turn_us_ = 0;
  }
  void start_run(std::uint64_t arrived_us) {
    if (run_.arrived_us && run_.count) runs_.push_back(run_);
    run_ = Run{arrived_us, arrived_us ? 1u : 0u};
  }

  Run run_;                    // the current run of one stamp
  std::vector<Run> runs_;      // the turn's earlier runs
  std::uint64_t turn_us_ = 0;  // this turn's arrival stamp, 0 until its first receive
};

}  // namespace shardmq::broker
