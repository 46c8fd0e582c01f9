// What the connection table tells the protocol above it about a connection's end: the
// table closes sockets and frees connections; what ending means for MQTT (the will, the
// session on its home shard, held acknowledgements) is the protocol's. Called once per
// connection, so a virtual call costs nothing that matters.
#pragma once

namespace shardmq::broker {

struct Connection;

class ConnectionEvents {
 public:
  virtual ~ConnectionEvents() = default;
  // The connection starts closing; `was_connected`: it had completed CONNECT.
  virtual void on_closing(Connection& c, bool was_connected) = 0;
  // The connection is about to be freed: drop every pointer to it.
  virtual void on_released(Connection& c) = 0;
};

}  // namespace shardmq::broker
