// Writes the Prometheus text exposition format (version 0.0.4): a family's # HELP and
// # TYPE lines, then its samples, label values and help text escaped as the format asks.
// Pure formatting: what the figures are is metrics_exposition.cpp's business.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "broker/metrics/histogram.hpp"

namespace shardmq::broker {

struct MetricLabel {
  std::string_view name, value;
};

class PrometheusText {
 public:
  explicit PrometheusText(std::string& out) : out_(out) {}

  // type: "counter", "gauge" or "histogram". Every sample of the family follows.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, std::initializer_list<MetricLabel> labels,
              std::uint64_t value);
  void sample(std::string_view name, std::initializer_list<MetricLabel> labels, double value);
  // A histogram's _bucket (cumulative), _sum and _count samples from a power-of-two
  // Histogram whose recorded values are in 1/divisor of the base unit (1e6: microseconds
  // exported as seconds). Buckets up to `last_bucket`, then
  // +Inf: the same set at every scrape, as rate() over buckets needs.
  void histogram(std::string_view name, std::initializer_list<MetricLabel> labels,
                 const Histogram::Snapshot& buckets, std::uint64_t sum, double divisor,
                 std::size_t last_bucket);

 private:
  void labels(std::initializer_list<MetricLabel> labels, MetricLabel extra = {});
  std::string& out_;
};

}  // namespace shardmq::broker
