// The settings SIGHUP may change while the broker runs (docs/operations.md lists them):
// the limits, the rates, the failed-login limits and the log level. The broker publishes
// each reloaded configuration as an immutable snapshot with a generation number; every
// shard compares the generation once per turn and, when it changed, copies the run-time
// settings into its own configuration on its own thread, at the end of the turn. What can
// change only with a restart is named in the log and kept.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "broker/config/config.hpp"

namespace shardmq::broker {

// Copies the run-time settings of `fresh` into `running`, leaving everything else.
void apply_runtime_settings(Config& running, const Config& fresh);

// The settings that differ between the two but need a restart, by their TOML names.
std::vector<std::string> restart_only_changes(const Config& running, const Config& fresh);

class RuntimeSettings {
 public:
  explicit RuntimeSettings(const Config& initial)
      : current_(std::make_shared<const Config>(initial)) {}

  // Any thread (the broker's, on SIGHUP).
  void publish(const Config& c) {
    current_.store(std::make_shared<const Config>(c));
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  // Read once per turn by each shard: a change shows as a new number.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  std::shared_ptr<const Config> current() const { return current_.load(); }

 private:
  std::atomic<std::shared_ptr<const Config>> current_;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace shardmq::broker
