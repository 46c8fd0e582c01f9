// The broker process: builds the shard mesh, starts one pinned thread per shard, waits for
// every shard to bind its listeners, and stops them all on request.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/config/runtime_settings.hpp"
#include "broker/listener/listener.hpp"
#include "broker/mesh/shard_mesh.hpp"
#include "broker/metrics/broker_stats.hpp"

namespace shardmq::broker {

class AuthServices;
class Shard;
class StorageService;

class Broker {
 public:
  explicit Broker(Config config);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Starts the shards; returns false (after logging why) if any listener or loop failed.
  bool start();
  // Asks every shard to close its clients and stop; returns when all threads joined.
  void stop();
  // SIGHUP: re-reads TLS certificates (existing connections keep theirs), the password file
  // and the ACL (every client is judged by the new ones at its next action), and applies
  // the run-time settings of `fresh` (the configuration file read again; null when it
  // failed to load, which the caller has logged): each shard takes them at the end of its
  // turn. What fails to load keeps its old version, and the log says why.
  void reload(const Config* fresh = nullptr);

  unsigned shard_count() const { return static_cast<unsigned>(shards_.size()); }
  // Bound ports, in listener order (useful with port 0).
  const std::vector<std::uint16_t>& bound_ports() const { return bound_ports_; }

 private:
  Config config_;
  std::unique_ptr<ShardMesh> mesh_;
  std::vector<std::unique_ptr<ListenerRuntime>> listeners_;
  BrokerStats stats_;
  std::unique_ptr<AuthServices> auth_;
  std::unique_ptr<StorageService> storage_;  // outlives the shards, whose sinks use it
  void reload_tls();
  void reload_settings(Config fresh);
  std::unique_ptr<RuntimeSettings> settings_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::thread> threads_;
  std::vector<std::uint16_t> bound_ports_;
};

// Usable cores in this process's affinity mask, in order.
std::vector<int> usable_cpus();

}  // namespace shardmq::broker
