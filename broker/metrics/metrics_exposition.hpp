// What GET /metrics and GET /status.json answer: every shard's figures, read from the
// atomics their owners write (relaxed loads, summed or labelled by shard; nothing locked,
// nothing sent through a ring), in the Prometheus text format or as a JSON summary.
// docs/operations.md lists every family.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace shardmq::broker {

struct BrokerStats;
struct Config;
class ListenerRuntime;
class ShardMesh;

// Shared read-only by every shard's HTTP part.
struct MetricsSources {
  const BrokerStats& stats;
  const ShardMesh& mesh;
  const std::vector<std::unique_ptr<ListenerRuntime>>& listeners;
};

// The Prometheus text exposition (format 0.0.4).
std::string render_metrics(const MetricsSources& s);
// The dashboard's summary: version, uptime, shards, I/O backend, listeners, configuration.
std::string render_status_json(const MetricsSources& s, const Config& config,
                               std::string_view io_backend);

}  // namespace shardmq::broker
