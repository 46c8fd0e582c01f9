// The result of a scenario as an ordered list of named figures, printed as aligned text or
// as one JSON object (--json) that scripts/bench parses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "loadgen/histogram.hpp"

namespace shardmq::loadgen {

class Report {
 public:
  explicit Report(std::string scenario) : scenario_(std::move(scenario)) {}

  void add(std::string key, double value, std::string unit = {});
  void add_int(std::string key, std::uint64_t value, std::string unit = {});
  void add_text(std::string key, std::string value);
  // Adds <prefix>_p50_us, _p99_us, _p999_us, _max_us, _mean_us from a histogram in ns.
  void add_latency(const std::string& prefix, const Histogram& h_ns);

  std::string text() const;
  std::string json() const;

 private:
  struct Item {
    std::string key;
    std::string value;  // already formatted (JSON-ready for numbers)
    std::string unit;
    bool is_text = false;
  };
  std::string scenario_;
  std::vector<Item> items_;
};

}  // namespace shardmq::loadgen
