// A shard: one thread, one event loop, the connections it accepted, the sessions whose
// client identifier hashes to it, and its own subscription index. It talks to other shards
// only through the ShardMesh rings.
//
// The member functions live in files by concern:
//   shard.cpp           thread, loop callbacks, connection lifecycle, output flushing
//   shard_protocol.cpp  MQTT packets from clients on this shard's sockets
//   shard_sessions.cpp  sessions homed here: attach/takeover, subscriptions, QoS 1/2 windows
//   shard_routing.cpp   matching publishes, carrying them to other shards, interest, rings
//   shard_retained.cpp  the retained-message replica and $SYS topics
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <xxhash.h>

#include "broker/broker_stats.hpp"
#include "broker/config.hpp"
#include "broker/connection.hpp"
#include "broker/listener.hpp"
#include "broker/published_message.hpp"
#include "broker/retained_message.hpp"
#include "broker/route_cache.hpp"
#include "broker/session.hpp"
#include "broker/shard_mesh.hpp"
#include "broker/subscription.hpp"
#include "core/intrusive_hash_index.hpp"
#include "core/packets.hpp"
#include "core/retained_tree.hpp"
#include "core/shard_interest.hpp"
#include "core/topic_index.hpp"
#include "io/loop.hpp"
#include "io/slab.hpp"
#include "io/timer_wheel.hpp"

namespace shardmq::broker {

class Shard final : public io::LoopHandler {
 public:
  struct StartResult {
    std::string error;                 // empty on success
    std::vector<std::uint16_t> ports;  // bound port per listener
    std::string backend;
    std::string fallback_reason;
  };

  Shard(unsigned id, const Config& config,
        const std::vector<std::unique_ptr<ListenerRuntime>>& listeners, ShardMesh& mesh,
        BrokerStats& stats);
  ~Shard() override;

  // The shard thread's body: builds the loop and listeners, reports through `ready`,
  // waits for `go` (every shard ready), then serves until stopped.
  void run(std::promise<StartResult> ready, std::shared_future<bool> go);
  // Thread-safe: close clients and stop.
  void request_stop();

 private:
  // io::LoopHandler
  void on_accept(std::uint32_t listener_tag, io::SocketId socket,
                 const io::PeerAddress& peer) override;
  void on_data(void* ctx, std::span<const std::byte> data) override;
  void on_sent(void* ctx, std::size_t bytes) override;
  void on_peer_closed(void* ctx, int err) override;
  void on_closed(void* ctx) override;
  void on_wake() override;
  void on_tick() override;
  void on_turn_end() override;

  // Lifecycle (shard.cpp).
  enum class CloseKind { graceful, abrupt };
  void close_connection(Connection& c, CloseKind kind);
  void schedule_flush(Connection& c);
  void flush(Connection& c);
  bool flush_layer_output(Connection& c);
  void begin_shutdown();
  void maybe_finish_shutdown();
  void on_timer(Connection& c);
  Connection* connection_by_serial(std::uint32_t serial);
  void update_receive_pause(Connection& c);

  // Protocol, connection side (shard_protocol.cpp).
  void consume(Connection& c, std::span<const std::byte> data);
  void consume_stashed(Connection& c);
  bool handle_frame(Connection& c, std::span<const std::byte> frame, std::size_t header_size);
  void handle_packet(Connection& c, const core::Packet& p);
  void handle_connect(Connection& c, const core::Connect& p);
  void handle_publish(Connection& c, const core::Publish& p);
  void handle_subscribe(Connection& c, const core::Subscribe& p);
  void handle_unsubscribe(Connection& c, const core::Unsubscribe& p);
  void protocol_error(Connection& c, core::ReasonCode reason, std::string_view why);
  bool send_packet(Connection& c, const core::Packet& p);
  void send_disconnect(Connection& c, core::ReasonCode reason);
  void complete_connect(Connection& c, const AttachReply& reply);
  void resume_later(Connection& c);
  void resume_connections();
  void publish_will(Connection& c);
  void detach_from_session(Connection& c);

  // Sessions homed on this shard (shard_sessions.cpp).
  void session_attach(AttachRequest* req);
  void finish_attach(Session* s, AttachRequest& req);
  void session_detach(DetachNotice* n);
  void session_subscribe(SubscribeRequest* req);
  void finish_subscribe(SubscribeRequest* req);
  void session_unsubscribe(UnsubscribeRequest* req);
  void session_client_ack(Session* s, ConnectionRef from, core::PacketType type,
                          std::uint16_t packet_id);
  void deliver_to_session(Session& s, const struct LocalPublish& p, std::uint8_t qos,
                          std::uint32_t subscription_id, bool retain);
  void send_outgoing(Session& s, OutgoingMessage& m, bool dup);
  void pump_session(Session& s);
  void start_inflight(Session& s, OutgoingMessage m);
  void destroy_session(Session* s);
  void clear_session_state(Session& s);
  std::uint16_t session_window(const Session& s) const;
  void update_congestion(Session& s);
  void release_held_acks();
  void send_publish_ack(Connection& c, std::uint32_t held);

  // Routing (shard_routing.cpp).
  // Returns true when a subscriber it reached is congested (see ShardMesh::set_congested).
  bool route(const struct LocalPublish& p, Connection* publisher);
  bool write_publish(Connection& c, std::string_view topic, std::string_view properties,
                     std::string_view payload, std::uint8_t qos, std::uint16_t packet_id, bool dup,
                     bool retain, std::uint32_t subscription_id);
  bool add_subscription(Session& s, const std::string& filter, const SubscriptionOptions& o,
                        bool* existed);
  bool remove_subscription(Session& s, const std::string& filter);
  void broadcast_interest(ShardEnvelope::Kind kind, const std::string& filter);
  void send_to(unsigned to, const ShardEnvelope& e, Connection* publisher = nullptr);
  void push_to(unsigned to, const ShardEnvelope& e, Connection* publisher);
  void drain_inbound();
  void handle_envelope(const ShardEnvelope& e);
  void flush_backlogs();
  std::uint32_t issue_barrier();
  void complete_barriers();

  // Retained messages and $SYS (shard_retained.cpp).
  void retain(const struct LocalPublish& p);
  void apply_retained(PublishedMessage* m, std::uint64_t order);
  void pump_retained(Session& s);
  bool retained_room(Session& s);
  void publish_sys_topics();

  unsigned id_;
  const Config& config_;
  const std::vector<std::unique_ptr<ListenerRuntime>>& listeners_;
  ShardMesh& mesh_;
  BrokerStats& stats_;
  ShardCounters& counters_;
  std::unique_ptr<io::Loop> loop_;
  std::atomic<bool> stop_requested_{false};
  bool shutting_down_ = false;
  bool destroying_ = false;
  std::uint64_t shutdown_deadline_tick_ = 0;

  io::Slab<Connection> connection_slab_;
  struct ConnectionBySerial {
    static std::uint32_t key(const Connection& c) { return c.serial; }
    static Connection*& next(Connection& c) { return c.index_next; }
    static std::size_t hash(std::uint32_t serial) { return serial; }  // serials are sequential
  };
  core::IntrusiveHashIndex<Connection, ConnectionBySerial> connections_;
  std::uint32_t next_serial_ = 1;
  std::vector<Connection*> flush_list_;
  std::vector<std::pair<Connection*, std::uint32_t>> resume_list_;  // answered by their home
  std::vector<std::uint32_t> listener_connections_;                 // open connections per listener

  // Sessions whose client identifier hashes to this shard, by identifier.
  io::Slab<Session> session_slab_;
  struct SessionById {
    static std::string_view key(const Session& s) { return s.client_id; }
    static Session*& next(Session& s) { return s.index_next; }
    // The high half: the low bits also pick the home shard (hash % shards), so they are alike here.
    static std::size_t hash(std::string_view id) { return XXH3_64bits(id.data(), id.size()) >> 32; }
  };
  core::IntrusiveHashIndex<Session, SessionById> sessions_;
  std::uint64_t next_session_serial_ = 1;

  // Subscriptions of this shard's sessions, and which filters the other shards have.
  core::TopicIndex<Session*, SubscriptionOptions> subscriptions_;
  core::ShardInterest remote_interest_;
  std::uint64_t notify_mask_ = 0;  // shards pushed to this turn, woken at turn end

  // This shard's replica of the retained messages (every shard holds all of them; updates
  // are ordered by Lamport timestamps so replicas agree).
  core::RetainedTree<RetainedMessage> retained_;
  std::uint64_t lamport_ = 0;

  // Envelopes that did not fit a full ring, per destination, and the publishers paused
  // until they drain (back-pressure instead of loss).
  std::vector<std::deque<ShardEnvelope>> backlog_;
  std::vector<std::pair<Connection*, std::uint32_t>> paused_publishers_;

  // Barriers make SUBACK wait until every other shard has applied the new interest, so a
  // publish sent after SUBACK reaches the subscriber from any shard.
  std::uint32_t barrier_issued_ = 0;
  std::vector<std::uint32_t> barrier_acked_;  // per peer shard
  struct PendingSubscribe {
    std::uint32_t barrier;
    SubscribeRequest* request;
  };
  std::deque<PendingSubscribe> pending_subscribes_;

  // Back-pressure (shard_sessions.cpp): sessions whose queue passed the high-water mark
  // while their client keeps acknowledging, and publishers whose acks are held.
  std::vector<Session*> congested_sessions_;
  bool route_hit_congestion_ = false;
  std::vector<Connection*> held_ack_connections_;

  std::vector<Session*> streaming_sessions_;  // retained streams waiting for room
  std::uint32_t retained_turn_budget_ = 0;

  io::TimerWheel timers_;
  io::TimerWheel session_timers_{1024};  // session expiry, in ticks
  std::uint64_t tick_ = 0;
  std::uint64_t next_sys_tick_ = 0;
  bool sys_load_started_ = false;
  struct SysLoad {
    double received = 0, sent = 0, bytes_received = 0, bytes_sent = 0;
    std::uint64_t last_received = 0, last_sent = 0, last_bytes_received = 0, last_bytes_sent = 0;
  } load_;

  // Scratch for matching: who gets this publish (reused, no allocation after warm-up).
  struct Target {
    Session* session;
    SubscriptionOptions options;
  };
  std::vector<Target> targets_;
  std::uint64_t match_stamp_ = 0;
  // Recent topics' matches (shard_routing.cpp); any change to the subscription index or to
  // the remote interest bumps the version, which retires every cached route.
  using Route = RouteCache<Target>::Route;
  RouteCache<Target> routes_;
  std::uint64_t routes_version_ = 1;
  const Route& find_route(std::string_view topic);
  // Delivers to this shard's subscribers among the route's matches.
  void deliver_local(const struct LocalPublish& p, const Route& route);

  core::Packet scratch_packet_;  // the packet being handled; views into the receive buffer
  ByteBlock layer_app_;          // plaintext out of a connection's TLS/WebSocket layer
};

}  // namespace shardmq::broker
