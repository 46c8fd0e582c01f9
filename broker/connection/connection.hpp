// One client socket on a shard: framing state for the bytes it sends, the bytes queued for
// it, and its protocol-level state. Owned by the shard that accepted the socket; its
// session lives on the client identifier's home shard (see session.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "broker/connection/held_acks.hpp"
#include "broker/connection/out_buffer.hpp"
#include "broker/connection/publish_throttle.hpp"
#include "broker/connection/topic_aliases.hpp"
#include "broker/containers/client_name.hpp"
#include "broker/message/published_message.hpp"
#include "core/mqtt_types.hpp"
#include "io/loop.hpp"
#include "io/stream_layer.hpp"
#include "io/timer_wheel.hpp"

namespace shardmq::broker {

struct Session;

// A client's own publishing state beyond the packet at hand, allocated when it first sends
// QoS 2, has an acknowledgement held back or is rate limited (most connections never do).
struct InboundQos {
  // Packet ids received (PUBREC sent) and not yet released by PUBREL. Handed to the
  // session when the connection ends so a reconnect keeps exactly-once.
  std::vector<std::uint16_t> qos2_awaiting_rel;
  // PUBACK/PUBREC held back (storage not yet durable).
  HeldAcks held_acks;
  // The publish rate buckets, while limits.max_publish_rate or max_publish_bandwidth is set.
  std::unique_ptr<PublishThrottle> throttle;
  // Sessions whose full queues hold this publisher back (hold_publisher envelopes): its
  // receive stays paused while any does.
  std::uint32_t held_by_sessions = 0;

  // Ids handed over from the session at CONNECT (the front of qos2_awaiting_rel) and not
  // released yet: a new connection's Receive Maximum quota does not count them.
  std::uint16_t inherited = 0;

  // QoS 1/2 PUBLISHes of this connection the client has no PUBACK/PUBCOMP for yet.
  std::size_t unacknowledged() const {
    return qos2_awaiting_rel.size() - inherited + held_acks.pubacks();
  }
  bool release(std::uint16_t id) {
    auto it = std::find(qos2_awaiting_rel.begin(), qos2_awaiting_rel.end(), id);
    if (it == qos2_awaiting_rel.end()) return false;
    if (it - qos2_awaiting_rel.begin() < inherited) --inherited;
    qos2_awaiting_rel.erase(it);
    return true;
  }
  bool awaiting_rel(std::uint16_t id) const {
    return std::find(qos2_awaiting_rel.begin(), qos2_awaiting_rel.end(), id) !=
           qos2_awaiting_rel.end();
  }
};

// Laid out for size (160 bytes): a broker holding a million idle connections pays for every
// field here, so what only some connections need sits behind a pointer.
struct Connection {
  enum class State : std::uint8_t {
    awaiting_connect,  // socket open, no CONNECT yet
    authenticating,    // CONNECT taken, waiting for the authenticator's verdict
    attaching,         // CONNECT taken, waiting for the session's home shard
    connected,
    closing,
  };

  io::SocketId socket = io::kInvalidSocket;
  std::uint32_t serial = 0;  // unique on the shard: envelopes name connections by it
  State state = State::awaiting_connect;
  core::ProtocolVersion version = core::ProtocolVersion::v311;
  // One bit each: the pointer to the topic aliases fits in the bytes this saves.
  bool peer_closed : 1 = false;
  bool clean_disconnect : 1 = false;  // DISCONNECT received: no will
  bool id_assigned : 1 = false;       // the broker made the client id up (MQTT 5: say so)
  bool ring_paused : 1 = false;       // receive paused: a ring to another shard is full
  bool home_paused : 1 =
      false;  // receive paused: waiting for an answer (authenticator, home shard)
  bool recv_paused_in_loop : 1 = false;
  bool in_flush_list : 1 = false;
  bool close_when_flushed : 1 = false;
  bool session_attached : 1 = false;  // the home shard counts this connection as the session's
  bool in_held_list : 1 = false;      // listed in the shard's held-ack connections
  bool problem_info : 1 = true;       // MQTT 5 Request Problem Information (0: no Reason Strings)
  bool wants_response_info : 1 = false;  // MQTT 5 Request Response Information = 1
  // The session ends with the connection (Session Expiry 0; 3.1.1: clean session).
  bool session_expiry_zero : 1 = false;
  // home_paused is for the publish rate (PublishThrottle), not an answer: the message path
  // checks one flag, and only the resume paths ask which.
  bool throttled : 1 = false;
  // receive paused: a subscriber's full queue waits for this publisher's messages
  bool overload_paused : 1 = false;
  std::uint16_t keepalive_s = 0;
  std::uint16_t listener = 0;        // index into the configured listeners
  std::uint16_t home = 0;            // the session's home shard
  std::uint16_t alias_out_max = 0;   // Topic Aliases the broker may assign (MQTT 5), 0: none
  std::uint32_t max_packet_out = 0;  // client's Maximum Packet Size (MQTT 5), 0: none
  std::uint64_t last_rx_tick = 0;    // touched on every packet; checked when the timer fires
  io::TimerNode timer;               // connect timeout, then keepalive deadline
  Connection* index_next = nullptr;  // the shard's connection index chains through this

  // TLS / WebSocket / PROXY: what sits between the socket and MQTT (null for plain TCP).
  std::unique_ptr<io::StreamLayer> layer;
  ByteBlock layer_wire;  // bytes the layer must send (handshake, pong) ahead of new output

  ByteBlock rx_tail;  // bytes received but not yet handled (a partial packet, or a pause)
  OutBuffer out;
  Session* session = nullptr;  // valid on the home shard only; elsewhere an opaque handle
  ClientName client_id;        // and the user name it connected with

  // The will, published when the connection ends without DISCONNECT.
  PublishedMessage* will = nullptr;

  std::unique_ptr<InboundQos> inbound;    // null until first needed
  std::unique_ptr<TopicAliases> aliases;  // null until the client or the broker uses one

  InboundQos& inbound_qos() {
    if (!inbound) inbound = std::make_unique<InboundQos>();
    return *inbound;
  }
  TopicAliases& topic_aliases() {
    if (!aliases) aliases = std::make_unique<TopicAliases>(alias_out_max);
    return *aliases;
  }
  bool paused() const { return ring_paused || home_paused || overload_paused; }

  static Connection* from_timer(io::TimerNode* n) {
    return reinterpret_cast<Connection*>(reinterpret_cast<char*>(n) - offsetof(Connection, timer));
  }
};

// A regression guard: every byte here is a megabyte per million connections
// (docs/architecture.md).
static_assert(sizeof(Connection) <= 160,
              "Connection grew: keep rarely used state behind a pointer");

}  // namespace shardmq::broker
