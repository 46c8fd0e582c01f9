// What one worker process counted during a run. Trivially copyable on purpose: workers
// write it to their pipe as raw bytes and the parent sums them (merge()).
#pragma once

#include <cstdint>
#include <type_traits>

#include "loadgen/histogram.hpp"

namespace shardmq::loadgen {

struct Tally {
  std::uint64_t clients = 0;         // clients this worker was asked to run
  std::uint64_t connected = 0;       // CONNACK accepted (and SUBACK, where subscribing)
  std::uint64_t connect_failed = 0;  // TCP connect refused / reset / timed out
  std::uint64_t refused = 0;         // CONNACK or SUBACK with a failure code
  std::uint64_t dropped = 0;         // closed by the broker after being accepted
  std::uint64_t held_at_end = 0;     // still connected when the run ended
  std::uint64_t sent = 0;            // PUBLISH packets written during the measured window
  std::uint64_t acked = 0;           // QoS 1/2 flows completed (PUBACK / PUBCOMP)
  std::uint64_t received = 0;        // PUBLISH packets received during the measured window
  std::uint64_t received_bytes = 0;  // their payload bytes
  std::uint64_t sent_total = 0;      // PUBLISH written over the whole run (loss accounting)
  std::uint64_t received_total = 0;  // unique sequence numbers received over the whole run
  std::uint64_t duplicates = 0;      // sequence numbers seen again
  std::uint64_t lost = 0;            // sequence numbers skipped or never delivered
  std::uint64_t reordered = 0;       // sequence number lower than one already seen
  std::uint64_t pss_kib = 0;         // the worker's own memory once set up (Pss)
  double setup_cpu_seconds = 0;      // the worker's own CPU (user + system) until set up
  double setup_seconds = 0;          // time to connect + subscribe every client (max)
  double measured_seconds = 0;       // length of the measured window (max)
  Histogram latency_ns;              // publish -> delivery (pingtest: round trip)

  void merge(const Tally& o);
};
static_assert(std::is_trivially_copyable_v<Tally>);

}  // namespace shardmq::loadgen
