// The sessions homed on this shard (their client identifier hashes here), whichever shard
// their socket is on: attach and takeover, expiry, subscriptions, the outgoing QoS 1/2
// window and its queue, congestion, and the retained messages a new subscription streams.
// One client identifier has exactly one owner, so none of this is ever shared.
//
// Owns: every Session of the shard, the session expiry timers, SUBSCRIBEs waiting for their
// barrier, the congested and streaming session lists, the publishers congested sessions hold.
// Calls: SubscriptionIndex (the filters), RetainedStore (what a subscription is sent),
// ConnectionTable (a socket on this shard), MeshLink (a socket on another shard, replies to
// the connection's shard), StorageLink and AccessControl.
// Called by: the shard's envelope dispatch (requests from connections elsewhere), the
// protocol (requests from connections here), the router (deliveries).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <xxhash.h>

#include "broker/mesh/shard_envelope.hpp"
#include "broker/session/publisher_holds.hpp"
#include "broker/session/session.hpp"
#include "broker/session/shared_memberships.hpp"
#include "broker/shard/shard_context.hpp"
#include "core/intrusive_hash_index.hpp"
#include "io/slab.hpp"
#include "io/timer_wheel.hpp"

namespace shardmq::broker {

class AccessControl;
class ConnectionTable;
class MeshLink;
class RetainedStore;
class StorageLink;
class SubscriptionIndex;
class WillPublisher;
struct LocalPublish;
struct RestoredSession;

class SessionStore {
 public:
  SessionStore(ShardContext& ctx, SubscriptionIndex& index, RetainedStore& retained, MeshLink& mesh,
               ConnectionTable& connections, StorageLink& storage, AccessControl& access);
  ~SessionStore();  // ends every session (the broker is stopping)
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  // Requests from a connection, on this shard or through the rings. Each takes ownership
  // and answers the connection's shard with an envelope (attached, packet, kick, deliver).
  void attach(AttachRequest* req);
  void detach(DetachNotice* n);
  void subscribe(SubscribeRequest* req);
  void unsubscribe(UnsubscribeRequest* req);
  void client_ack(Session* s, ConnectionRef from, core::PacketType type, std::uint16_t packet_id);
  // The connection on shard `from` took (received) or released a QoS 2 PUBLISH of its client:
  // stored with the session, which this shard writes.
  void inbound_qos2(Session* s, unsigned from, std::uint16_t packet_id, bool received);
  // The connection holding `s` is on this shard: deliveries go straight into its output.
  void bind_local_connection(Session& s, Connection* c) { s.local_connection = c; }
  // Who publishes a delayed will when it falls due (the protocol, built after the store).
  void set_will_publisher(WillPublisher* p) { wills_ = p; }

  // A publish for `s` at `qos`. When `s` is congested (its queue is full) it holds the
  // publisher back itself (hold_publisher): nothing for the caller to do.
  void deliver(Session& s, const LocalPublish& p, std::uint8_t qos, std::uint32_t subscription_id,
               bool retain);

  // Shared subscriptions (session_shared.cpp). The owner of a group chose the member in slot
  // `index` here (on this shard, or in a shared_deliver envelope from the owner).
  void deliver_shared(std::uint32_t index, const LocalPublish& p);
  void shared_deliver(const ShardEnvelope& e);
  // As the group's owner: a member joins; answered once every shard routes the filter here.
  void shared_join(SharedJoin* j, unsigned from);
  // As the member's home: the owner has applied the join of a SUBSCRIBE waiting here.
  void shared_joined(SubscribeRequest* req);

  // SUBSCRIBEs whose barrier every shard has answered get their SUBACK.
  void barriers_answered(std::uint32_t done);
  // The output of the session's connection (on this shard) drained: stream on.
  void output_drained(Session& s) {
    if (s.in_stream_list) resume_stream(s);
  }

  // Start-up, before the shard serves: a persistent session read back from the store,
  // offline, its expiry counting from now (session_restore.cpp). Not written back.
  void restore(const RestoredSession& r);
  // As the shard starts serving: the restored wills with no Will Delay (their clients were
  // connected when the broker stopped) go now, before any client is accepted.
  void publish_restored_wills();

  void on_tick();      // expiry, and congestion of clients that stopped acknowledging
  void on_turn_end();  // retained streams waiting for room
  std::size_t size() const { return sessions_.size(); }
  Session* find(std::string_view client_id) { return sessions_.find(client_id); }

 private:
  // Attach and expiry (session_attach.cpp).
  void finish_attach(Session* s, AttachRequest& req);
  void clear_state(Session& s);
  void drop_expired_inflight(Session& s);
  // Delayed wills (session_attach.cpp).
  void keep_will(Session& s, PublishedMessage* will, std::uint32_t delay_s);
  void publish_will_now(const Session& s, PublishedMessage* will);
  void end_delayed_will(Session& s, bool publish);
  void destroy(Session* s);
  // Delivery (session_delivery.cpp).
  void send_outgoing(Session& s, OutgoingMessage& m, bool dup);
  void start_inflight(Session& s, OutgoingMessage m);
  void pump(Session& s);
  std::uint16_t window(const Session& s) const;
  void update_congestion(Session& s);
  void hold_publisher(Session& s, const LocalPublish& p);
  void let_publishers_go(Session& s);
  bool expired(const PublishedMessage* m);
  // The shard's gauges of what its sessions hold (ShardCounters), kept with each change.
  void count_queued(std::int64_t d) { ShardCounters::add(counters_.messages_queued, d); }
  void count_inflight(std::int64_t d) { ShardCounters::add(counters_.messages_inflight, d); }
  void count_sessions() { ShardCounters::set(counters_.sessions, sessions_.size()); }
  // Subscriptions (session_subscriptions.cpp).
  bool add_subscription(Session& s, const std::string& filter, const SubscriptionOptions& o,
                        bool* existed);
  bool remove_subscription(Session& s, const std::string& filter, bool session_ends = false);
  // Shared subscriptions (session_shared.cpp).
  bool add_shared(Session& s, const std::string& filter, const SubscriptionOptions& o,
                  bool* existed, std::vector<SharedJoin*>& joins);
  void leave_shared(Session& s, const std::string& filter, bool session_ends);
  void shared_presence(Session& s);  // tells the owners the session came or went
  void finish_subscribe(SubscribeRequest* req);
  void finish_unsubscribe(UnsubscribeRequest* req);
  void reply(ConnectionRef to, ShardEnvelope e);
  // Retained streams (retained_streaming.cpp).
  void pump_retained(Session& s);
  void resume_stream(Session& s);
  bool retained_room(Session& s);

  ShardContext& ctx_;
  // Copied from the context: one load each on the message path, not two.
  const Config& config_;
  ShardCounters& counters_;
  const unsigned id_;
  SubscriptionIndex& index_;
  RetainedStore& retained_;
  MeshLink& mesh_;
  ConnectionTable& connections_;
  StorageLink& storage_;
  AccessControl& access_;

  io::Slab<Session> slab_{64};  // small pages: each of many shards keeps a partly used one
  struct ById {
    static std::string_view key(const Session& s) { return s.client_id; }
    static Session*& next(Session& s) { return s.index_next; }
    // The high half: the low bits also pick the home shard (hash % shards), so they are alike here.
    static std::size_t hash(std::string_view id) { return XXH3_64bits(id.data(), id.size()) >> 32; }
  };
  core::IntrusiveHashIndex<Session, ById> sessions_;
  io::TimerWheel expiry_timers_{1024};  // in ticks
  io::TimerWheel will_timers_{1024};    // in ticks
  WillPublisher* wills_ = nullptr;
  std::vector<Session*> wills_due_;  // restored, no Will Delay: published as serving starts

  // Barriers make SUBACK wait until every other shard has applied the new interest, so a
  // publish sent after SUBACK reaches the subscriber from any shard.
  // An UNSUBSCRIBE waits behind them too, so its UNSUBACK keeps its place and no retained
  // stream starts for a filter already removed.
  struct PendingSubscribe {
    std::uint32_t barrier;
    SubscribeRequest* request;
    UnsubscribeRequest* unsubscribe = nullptr;  // instead of `request`
    std::uint32_t joins_waiting = 0;  // shared-subscription joins their owners have not applied
  };
  std::deque<PendingSubscribe> pending_subscribes_;
  // As a group's owner: joins to confirm to the member's home once `barrier` is answered.
  struct PendingJoin {
    std::uint32_t barrier;
    std::uint16_t home;
    SubscribeRequest* request;
  };
  std::deque<PendingJoin> pending_joins_;
  SharedMemberships shared_;

  // Sessions whose queue passed the high-water mark while their client keeps acknowledging,
  // and the publishers each holds back.
  std::vector<Session*> congested_;
  PublisherHolds holds_;
  std::vector<Session*> streaming_;  // retained streams waiting for room
  std::uint32_t retained_turn_budget_ = 0;
  std::string expiry_scratch_;  // a property block with the Message Expiry left, being sent
};

}  // namespace shardmq::broker
