// Runs a scenario in P forked worker processes (the open-file cap is per process), each
// with its share of the clients, and sums what they counted. Workers report through a
// pipe (a raw Tally) and meet at a barrier in shared memory so their measured windows
// start together. With P = 1 the scenario runs in this process.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "loadgen/tally.hpp"

namespace shardmq::loadgen {

// Lives in a MAP_SHARED mapping, visible to every worker.
struct SharedState {
  std::atomic<std::uint32_t> ready{0};      // workers done with setup
  std::atomic<std::uint64_t> start_ns{0};   // set by the last worker to arrive
  std::atomic<std::uint64_t> published{0};  // fanout: messages the publisher sent
  std::atomic<std::uint64_t> acked{0};      // fanout: publisher flows completed
  std::atomic<std::uint64_t> delivered{0};  // fanout: deliveries, all subscribers
  std::atomic<std::uint32_t> publisher_done{0};
  std::atomic<std::uint64_t> connected{0};  // clients ready, all workers (--progress)
  std::atomic<std::uint64_t> failed{0};     // clients that failed before being ready
};

struct WorkerContext {
  unsigned index = 0;
  unsigned procs = 1;
  std::uint64_t first_client = 0;  // global index of this worker's first client
  std::uint32_t run_id = 0;        // makes topics and client ids unique per run
  SharedState* shared = nullptr;
  std::uint64_t total_clients = 0;  // clients of all workers together
  int result_fd = -1;               // forked worker: where its Tally goes (deliver_result)
};

struct PoolResult {
  Tally tally;
  unsigned workers_failed = 0;  // crashed, killed at the deadline, or no result
};

// A forked worker's result, sent to the parent before the worker is done (its sockets may
// take long to close); the Tally that work() returns is then not sent again. In a single
// process run (result_fd < 0) it does nothing.
void deliver_result(const WorkerContext& ctx, const Tally& t);

// split(w) gives worker w's client count; work(ctx, clients) runs it. The parent waits at
// most bound_seconds (+ grace) and kills what is still running.
PoolResult run_workers(unsigned procs, const std::function<std::uint64_t(unsigned)>& split,
                       const std::function<Tally(const WorkerContext&, std::uint64_t)>& work,
                       double bound_seconds);

}  // namespace shardmq::loadgen
