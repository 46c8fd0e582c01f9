// One client socket on a shard: framing state for the bytes it sends, the bytes queued
// for it, and its protocol-level state. Owned by the shard that accepted the socket.
#pragma once

#include <cstdint>
#include <cstddef>
#include <memory>
#include <vector>

#include "broker/out_buffer.hpp"
#include "broker/session.hpp"
#include "core/mqtt_types.hpp"
#include "io/loop.hpp"
#include "io/timer_wheel.hpp"

namespace shardmq::broker {

struct Connection {
  enum class State : std::uint8_t { awaiting_connect, connected, closing };

  io::SocketId socket = io::kInvalidSocket;
  std::uint32_t serial = 0;  // unique on the shard: lets deferred work find a live connection
  State state = State::awaiting_connect;
  core::ProtocolVersion version = core::ProtocolVersion::v311;
  bool peer_closed = false;
  bool clean_disconnect = false;  // DISCONNECT received: no will
  bool recv_paused = false;
  bool in_flush_list = false;
  bool close_when_flushed = false;
  std::uint16_t keepalive_s = 0;
  std::uint32_t max_packet_out = 0;  // client's Maximum Packet Size (MQTT 5), 0: none
  std::uint64_t last_rx_tick = 0;    // touched on every packet; checked when the timer fires
  io::TimerNode timer;               // connect timeout, then keepalive deadline

  ByteBlock rx_tail;  // the start of a packet that has not fully arrived yet
  OutBuffer out;
  std::unique_ptr<Session> session;

  // Inbound QoS 2: packet ids received (PUBREC sent) and not yet released by PUBREL.
  // A bitmap of 65536 bits would cost 8 KiB per client; most clients have none or few.
  std::vector<std::uint16_t> qos2_awaiting_rel;
  std::uint16_t next_packet_id = 0;  // outgoing QoS 1/2

  static Connection* from_timer(io::TimerNode* n) {
    return reinterpret_cast<Connection*>(reinterpret_cast<char*>(n) - offsetof(Connection, timer));
  }
};

}  // namespace shardmq::broker
