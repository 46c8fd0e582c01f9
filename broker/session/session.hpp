// A client's session, kept on the client identifier's home shard whichever shard its
// socket landed on: its subscriptions (indexed on that shard), outgoing QoS 1/2 messages in
// flight, the queue of messages waiting for a window or for the client to come back, and the
// inbound QoS 2 identifiers not yet released. The connection itself lives on its own shard;
// `connection` says where.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "broker/containers/client_name.hpp"
#include "broker/containers/lazy_deque.hpp"
#include "broker/mesh/shard_envelope.hpp"
#include "broker/message/published_message.hpp"
#include "broker/retained/retained_message.hpp"
#include "broker/session/subscription.hpp"
#include "broker/session/subscription_list.hpp"
#include "core/mqtt_types.hpp"
#include "core/retained_tree.hpp"
#include "io/timer_wheel.hpp"

namespace shardmq::broker {

struct Connection;
struct Session;

// Retained messages matching a new subscription, sent a chunk at a time as the
// subscriber's window and output buffer allow (a '#' subscribe may match millions).
struct RetainedStream {
  core::RetainedTree<RetainedMessage>::Cursor cursor;
  SubscriptionOptions options;
  std::string filter;  // an UNSUBSCRIBE of it stops the stream
};

// One message on its way to this session.
struct OutgoingMessage {
  PublishedMessage* message = nullptr;  // holds a reference
  std::uint8_t qos = 0;
  bool retain = false;
  std::uint32_t subscription_id = 0;
  std::uint16_t packet_id = 0;  // once sent (in flight)
  bool released = false;        // QoS 2: PUBREC received, PUBREL sent, awaiting PUBCOMP
  // Came through a shared subscription: its slot (SharedMemberships) + 1; 0 otherwise.
  std::uint32_t shared_member = 0;
};

// What a session keeps only while its client is away: the Session Expiry timer, the
// inbound QoS 2 identifiers not yet released (a connection holds them while online), and a
// will waiting for its Will Delay Interval.
struct SessionAway {
  explicit SessionAway(Session* s) : session(s) {}
  SessionAway(const SessionAway&) = delete;
  SessionAway& operator=(const SessionAway&) = delete;
  ~SessionAway() {
    if (will) will->release();
  }
  io::TimerNode expiry_timer;  // MQTT 5 Session Expiry Interval (not scheduled: never expires)
  io::TimerNode will_timer;    // MQTT 5 Will Delay Interval, while `will` waits
  Session* session;
  PublishedMessage* will = nullptr;  // one reference
  std::vector<std::uint16_t> qos2_awaiting_rel;

  static SessionAway* from_timer(io::TimerNode* n) {
    return reinterpret_cast<SessionAway*>(reinterpret_cast<char*>(n) -
                                          offsetof(SessionAway, expiry_timer));
  }
  static SessionAway* from_will_timer(io::TimerNode* n) {
    return reinterpret_cast<SessionAway*>(reinterpret_cast<char*>(n) -
                                          offsetof(SessionAway, will_timer));
  }
};

// Laid out for size: a broker holding a million idle sessions pays for every field here
// (120 bytes; state that only some sessions need sits behind the pointers at the end).
struct Session {
  ClientName client_id;           // and the user name it connected with
  Session* index_next = nullptr;  // the shard's session index chains through this

  // Where the client is connected; online == false while it is away.
  ConnectionRef connection;
  Connection* local_connection = nullptr;  // when the socket is on the home shard too
  bool online = false;
  core::ProtocolVersion version = core::ProtocolVersion::v311;
  bool in_stream_list = false;
  bool congested = false;  // queue above the high-water mark, client still acking: holds publishers
  std::uint16_t receive_maximum = 65535;
  std::uint16_t next_packet_id = 0;
  std::uint32_t expiry_s = 0;  // kept after disconnect when > 0 (3.1.1: clean session = 0)
  // Matching scratch: whether this session is already a target of the publish being routed.
  std::uint32_t target_index = 0;
  std::uint64_t match_stamp = 0;
  std::uint64_t queued_bytes = 0;
  // The client's last acknowledgement, or the first message sent to it with none in flight:
  // its silence (limits.slow_consumer_timeout_ms) counts from there.
  std::uint64_t last_progress_tick = 0;

  SubscriptionList subscriptions;
  LazyDeque<OutgoingMessage> inflight;  // sent, not yet acknowledged, in send order
  LazyDeque<OutgoingMessage> queue;     // waiting for the window or the client
  LazyDeque<RetainedStream> retained_streams;
  // A new connection waiting for the old one to be closed (takeover).
  std::unique_ptr<AttachRequest> pending;
  std::unique_ptr<SessionAway> away;  // while offline and kept

  SessionAway& away_state() {
    if (!away) away = std::make_unique<SessionAway>(this);
    return *away;
  }
};

// A regression guard: every byte here is a megabyte per million sessions (docs/architecture.md).
static_assert(sizeof(Session) <= 120, "Session grew: keep rarely used state behind a pointer");
// Queued by the thousand per absent session; the shared-subscription tag fits its padding.
static_assert(sizeof(OutgoingMessage) <= 24, "OutgoingMessage grew");

}  // namespace shardmq::broker
