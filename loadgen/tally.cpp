#include "loadgen/tally.hpp"

#include <algorithm>

namespace shardmq::loadgen {

void Tally::merge(const Tally& o) {
  clients += o.clients;
  connected += o.connected;
  connect_failed += o.connect_failed;
  refused += o.refused;
  dropped += o.dropped;
  held_at_end += o.held_at_end;
  sent += o.sent;
  acked += o.acked;
  received += o.received;
  received_bytes += o.received_bytes;
  sent_total += o.sent_total;
  received_total += o.received_total;
  duplicates += o.duplicates;
  lost += o.lost;
  reordered += o.reordered;
  pss_kib += o.pss_kib;
  setup_cpu_seconds += o.setup_cpu_seconds;
  setup_seconds = std::max(setup_seconds, o.setup_seconds);
  measured_seconds = std::max(measured_seconds, o.measured_seconds);
  latency_ns.merge(o.latency_ns);
}

}  // namespace shardmq::loadgen
