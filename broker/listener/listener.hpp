// A configured listener as the shards use it: its settings, its TLS context (swapped
// atomically on SIGHUP: connections keep the context they started with), and its
// WebSocket options. Built once by Broker before the shards start; shared read-only.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "broker/config/config.hpp"
#include "core/result.hpp"
#include "io/http_upgrade.hpp"
#include "io/stream_layer.hpp"
#include "io/tls_context.hpp"

namespace shardmq::broker {

struct ListenerRuntime {
  ListenerConfig config;
  std::atomic<std::shared_ptr<io::TlsContext>> tls;
  std::shared_ptr<const io::WebSocketOptions> websocket;

  static Result<std::unique_ptr<ListenerRuntime>, std::string> create(const ListenerConfig& c);
  // Re-reads certificate, key and CA; on failure the old context stays and the error is
  // returned.
  Result<void, std::string> reload_tls();
  // The byte-stream layers for a new connection (null for plain MQTT over TCP).
  std::unique_ptr<io::StreamLayer> make_layers() const;
};

}  // namespace shardmq::broker
