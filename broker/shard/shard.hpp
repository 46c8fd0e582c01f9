// A shard: one thread, one event loop, and the parts that serve the connections it accepted
// and the sessions whose client identifier hashes to it. It owns the parts, wires them, runs
// the loop and hands each loop event and each envelope to the part it belongs to; what the
// parts do is in their own folders (docs/architecture.md draws who calls whom):
//
//   connection/  ConnectionTable (sockets, output, timers), ClientProtocol (MQTT packets)
//   session/     SessionStore (sessions homed here, subscriptions, QoS windows, queues)
//   routing/     Router (the publish path), SubscriptionIndex (filters, interest, cache)
//   retained/    RetainedStore (this shard's replica)
//   mesh/        MeshLink (rings to the other shards, back-pressure, barriers)
//   sys/         SysTopics ($SYS/broker/...)
//   http/        HttpServer (/metrics, /status.json, the dashboard on http:// listeners)
//   auth/        AccessControl (authenticator, authoriser)
//   storage/     StorageLink (durable state; none by default)
//
// Other shards are reached only through the MeshLink's rings.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "broker/mesh/envelope_handler.hpp"
#include "broker/shard/shard_context.hpp"
#include "io/loop.hpp"

namespace shardmq::broker {

class AccessControl;
class AuthServices;
class ClientProtocol;
class ConnectionTable;
class HttpServer;
class ListenerRuntime;
class MeshLink;
class RetainedStore;
class Router;
class SessionStore;
class ShardMesh;
class PublishedMessage;
class StorageLink;
class StorageService;
struct RestoredShard;
class SubscriptionIndex;
class SysTopics;
class RuntimeSettings;
struct BrokerStats;

class Shard final : public io::LoopHandler, public EnvelopeHandler {
 public:
  struct StartResult {
    std::string error;                 // empty on success
    std::vector<std::uint16_t> ports;  // bound port per listener
    std::string backend;
    std::string fallback_reason;
  };

  // The shard works on its own copy of the configuration; `settings` tells it of reloads.
  Shard(unsigned id, const RuntimeSettings& settings,
        const std::vector<std::unique_ptr<ListenerRuntime>>& listeners, ShardMesh& mesh,
        BrokerStats& stats, AuthServices* auth, StorageService* storage = nullptr);
  ~Shard() override;

  // What start-up read back from the store for this shard, and every retained message:
  // restored by run(), on the shard's thread, before it serves. Both outlive run()'s report.
  void restore_from(const RestoredShard* sessions, const std::vector<PublishedMessage*>* retained) {
    restore_sessions_ = sessions;
    restore_retained_ = retained;
  }

  // The shard thread's body: builds the loop and listeners, reports through `ready`,
  // waits for `go` (every shard ready), then serves until stopped.
  void run(std::promise<StartResult> ready, std::shared_future<bool> go);
  // Thread-safe: close clients and stop.
  void request_stop();

 private:
  // io::LoopHandler (shard.cpp)
  void on_accept(std::uint32_t listener_tag, io::SocketId socket,
                 const io::PeerAddress& peer) override;
  void on_data(void* ctx, std::span<const std::byte> data) override;
  void on_sent(void* ctx, std::size_t bytes) override;
  void on_peer_closed(void* ctx, int err) override;
  void on_closed(void* ctx) override;
  void on_wake() override;
  void on_tick() override;
  void on_turn_end() override;
  // EnvelopeHandler: each kind to the part that owns it (envelope_dispatch.cpp).
  void on_envelope(const ShardEnvelope& e) override;

  void begin_shutdown();
  bool nothing_open() const;  // no MQTT and no HTTP connection left
  void restore();             // what restore_from named
  void apply_settings();      // a reload was published: take its run-time settings

  const RuntimeSettings& settings_;
  std::uint64_t settings_generation_;
  Config config_;  // ctx_.config: changed only by apply_settings, at the end of a turn
  ShardContext ctx_;
  const std::vector<std::unique_ptr<ListenerRuntime>>& listeners_;
  ShardMesh& mesh_;
  BrokerStats& stats_;
  std::unique_ptr<io::Loop> loop_;
  std::atomic<bool> stop_requested_{false};
  bool shutting_down_ = false;
  std::uint64_t shutdown_deadline_tick_ = 0;

  // The parts, in the order they are built (each uses only those above it) and torn down
  // in reverse.
  std::unique_ptr<AccessControl> access_;
  std::unique_ptr<StorageLink> storage_;
  const RestoredShard* restore_sessions_ = nullptr;
  const std::vector<PublishedMessage*>* restore_retained_ = nullptr;
  std::unique_ptr<ConnectionTable> connections_;
  std::unique_ptr<MeshLink> link_;
  std::unique_ptr<RetainedStore> retained_;
  std::unique_ptr<SubscriptionIndex> index_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<ClientProtocol> protocol_;
  std::unique_ptr<SysTopics> sys_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace shardmq::broker
