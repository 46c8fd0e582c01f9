// --progress: worker 0 prints to stderr how the setup advances (every worker's counts, from
// the shared state) and when the measured window starts and ends, so that a script driving
// a long run (scripts/million) can follow it and sample the broker while every client is
// held. The lines start with "shardmq-load: progress".
#pragma once

#include <cstdint>

#include "loadgen/worker_pool.hpp"

namespace shardmq::loadgen {

class Progress {
 public:
  Progress(bool on, const WorkerContext& ctx) : on_(on && ctx.index == 0), ctx_(ctx) {}

  // During setup and the barrier: a line at most once a second.
  void setup(std::uint64_t now, std::uint64_t setup_start);
  void window_started(std::uint64_t setup_start);
  void window_ended();
  void closed(std::uint64_t since);  // worker 0's clients are closed; since: when it began

 private:
  bool on_;
  const WorkerContext& ctx_;
  std::uint64_t last_ = 0;
};

// This process's proportional set size in KiB (/proc/self/smaps_rollup): forked workers
// share their binary's pages, which Pss counts once over all of them. 0 if unreadable.
std::uint64_t own_pss_kib();
// CPU seconds (user + system) this process has used so far.
double own_cpu_seconds();

}  // namespace shardmq::loadgen
