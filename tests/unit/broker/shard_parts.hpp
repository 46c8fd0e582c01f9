// The parts of shard 0 of a two-shard mesh, wired as broker/shard/shard.cpp wires them, with
// no sockets: the loops do nothing, and the clients' connections are on shard 1, so all the
// session store says to a client arrives in the ring from shard 0 to shard 1, where a test
// reads it (to_clients()).
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/auth/access_control.hpp"
#include "broker/config/config.hpp"
#include "broker/connection/connection_table.hpp"
#include "broker/listener/listener.hpp"
#include "broker/mesh/mesh_link.hpp"
#include "broker/mesh/shard_envelope.hpp"
#include "broker/mesh/shard_mesh.hpp"
#include "broker/message/local_publish.hpp"
#include "broker/metrics/broker_stats.hpp"
#include "broker/retained/retained_store.hpp"
#include "broker/routing/router.hpp"
#include "broker/routing/subscription_index.hpp"
#include "broker/session/session.hpp"
#include "broker/session/session_store.hpp"
#include "broker/shard/shard_context.hpp"
#include "broker/storage/storage_link.hpp"
#include "io/loop.hpp"

namespace shardmq::broker::test {

using Kind = ShardEnvelope::Kind;

// A loop with no sockets; it only counts the calls a test may want to see.
class NullLoop final : public io::Loop {
 public:
  io::Backend backend() const override { return io::Backend::epoll; }
  int listen(const std::string&, std::uint16_t, std::uint32_t,
             const io::ListenerOptions&) override {
    return 0;
  }
  void start(io::SocketId, void*) override {}
  void pause_recv(io::SocketId) override { ++paused; }
  void resume_recv(io::SocketId) override { ++resumed; }
  void send(io::SocketId, const iovec*, int) override {}
  void close(io::SocketId) override {}
  void stop_listening() override {}
  void set_tick_interval(unsigned) override {}
  void wake() override { ++wakes; }
  void run(io::LoopHandler&) override {}
  void stop() override {}
  std::size_t socket_capacity() const override { return 0; }

  int paused = 0;
  int resumed = 0;
  int wakes = 0;
};

class NullEvents final : public ConnectionEvents {
 public:
  void on_closing(Connection&, bool) override {}
  void on_released(Connection&) override {}
};

// Envelopes shard 0 sends itself (MeshLink::send to its own id).
class RecordingHandler final : public EnvelopeHandler {
 public:
  ~RecordingHandler() override {
    for (auto& e : got)
      release_envelope(e);
  }
  void on_envelope(const ShardEnvelope& e) override { got.push_back(e); }
  std::vector<ShardEnvelope> got;
};

struct TwoShardStats : BrokerStats {
  TwoShardStats() { init(2); }
};

// A deliver envelope, decoded.
struct Delivery {
  std::uint32_t serial = 0;
  std::uint16_t packet_id = 0;
  std::uint8_t qos = 0;
  bool dup = false;
  bool retain = false;
  std::string topic;
  std::string payload;
};

struct Attached {
  Session* session = nullptr;
  bool present = false;
  std::vector<ShardEnvelope> after;  // what the store sent after the answer (resends)
};

struct ShardParts {
  explicit ShardParts(const Config& c = Config{}, std::size_t ring_capacity = 64)
      : mesh(2, ring_capacity), cfg(c) {
    mesh.attach_loop(0, &loop0);
    mesh.attach_loop(1, &loop1);
    connections.attach(&loop0, &events);
    link.set_handler(&self);
  }
  ~ShardParts() {
    ctx.destroying = true;  // as ~Shard: the parts tell no other shard anything now
    ShardEnvelope e;
    while (mesh.ring(0, 1).try_pop(e))
      release_envelope(e);
    for (auto& k : kept)
      release_envelope(k);
  }
  ShardParts(const ShardParts&) = delete;
  ShardParts& operator=(const ShardParts&) = delete;

  // ---- requests, as the protocol on shard 1 would send them ----

  static AttachRequest request(std::string id, std::uint32_t serial, bool clean_start = true,
                               std::uint32_t expiry_s = 0, std::uint16_t receive_maximum = 65535,
                               core::ProtocolVersion v = core::ProtocolVersion::v5) {
    AttachRequest r;
    r.client_id = std::move(id);
    r.connection = ConnectionRef{1, serial};
    r.version = v;
    r.clean_start = clean_start;
    r.session_expiry_s = expiry_s;
    r.receive_maximum = receive_maximum;
    return r;
  }
  void attach(AttachRequest r) { store.attach(new AttachRequest(std::move(r))); }
  // Attaches and expects the answer at once (no takeover).
  Attached connect(AttachRequest r) {
    const std::uint32_t serial = r.connection.serial;
    attach(std::move(r));
    std::vector<ShardEnvelope> got = to_clients();
    REQUIRE_FALSE(got.empty());
    REQUIRE(got.front().kind == Kind::attached);
    auto* reply = static_cast<AttachReply*>(got.front().ptr);
    REQUIRE(reply->connection == ConnectionRef{1, serial});
    Attached a{reply->session, reply->session_present, {}};
    a.after.assign(got.begin() + 1, got.end());
    return a;
  }
  void disconnect(Session* s, std::uint32_t serial) {
    auto* n = new DetachNotice;
    n->session = s;
    n->connection = ConnectionRef{1, serial};
    store.detach(n);
  }
  // SUBSCRIBE to one filter; answers the barrier it may wait for and returns the SUBACK's
  // reason codes.
  std::vector<core::ReasonCode> subscribe(
      Session* s, std::uint32_t serial, std::string filter, std::uint8_t max_qos,
      std::uint16_t packet_id = 1,
      core::RetainHandling retain_handling = core::RetainHandling::DoNotSend) {
    auto* req = new SubscribeRequest;
    req->session = s;
    req->connection = ConnectionRef{1, serial};
    req->packet_id = packet_id;
    SubscribeRequest::Item item;
    item.filter = std::move(filter);
    item.options.max_qos = max_qos;
    item.retain_handling = retain_handling;
    req->items.push_back(std::move(item));
    store.subscribe(req);
    link.barrier_answered(1, link.last_barrier());
    store.barriers_answered(link.barriers_done());
    for (const ShardEnvelope& e : to_clients()) {
      if (e.kind != Kind::packet || e.target != serial) continue;
      const auto* ack = std::get_if<core::SubAck>(static_cast<core::Packet*>(e.ptr));
      REQUIRE(ack);
      CHECK(ack->packet_id == packet_id);
      return ack->reason_codes;
    }
    FAIL("no SUBACK for connection " << serial);
    return {};
  }
  void publish(std::string_view topic, std::string_view payload, std::uint8_t qos,
               bool retain = false, ConnectionRef publisher = {}) {
    LocalPublish p;
    p.topic = topic;
    p.payload = payload;
    p.qos = qos;
    p.retain = retain;
    p.publisher = publisher;
    router.route(p, nullptr);
  }
  void ack(Session* s, std::uint32_t serial, core::PacketType type, std::uint16_t packet_id) {
    store.client_ack(s, ConnectionRef{1, serial}, type, packet_id);
  }
  void tick(std::uint64_t n) {
    ctx.tick += n;
    store.on_tick();
  }

  // ---- what reached shard 1 ----

  // The envelopes for connections (attached, deliver, release, packet, kick) that shard 0
  // sent since the last call, in order. Routing envelopes (barriers, interest, retained) go to
  // `routing`. All are kept and freed with the fixture.
  std::vector<ShardEnvelope> to_clients() {
    link.flush();
    std::vector<ShardEnvelope> out;
    ShardEnvelope e;
    while (mesh.ring(0, 1).try_pop(e)) {
      kept.push_back(e);
      switch (e.kind) {
        case Kind::attached:
        case Kind::deliver:
        case Kind::release:
        case Kind::packet:
        case Kind::kick:
          out.push_back(e);
          break;
        default:
          routing.push_back(e);
          break;
      }
    }
    return out;
  }
  static std::vector<ShardEnvelope> of_kind(const std::vector<ShardEnvelope>& got, Kind k) {
    std::vector<ShardEnvelope> out;
    for (const ShardEnvelope& e : got)
      if (e.kind == k) out.push_back(e);
    return out;
  }
  static std::vector<Delivery> deliveries(const std::vector<ShardEnvelope>& got) {
    std::vector<Delivery> out;
    for (const ShardEnvelope& e : of_kind(got, Kind::deliver)) {
      const auto* m = static_cast<const PublishedMessage*>(e.ptr);
      out.push_back(Delivery{e.target, static_cast<std::uint16_t>(e.aux),
                             static_cast<std::uint8_t>(e.flags & kDeliverQosMask),
                             (e.flags & kDeliverDup) != 0, (e.flags & kDeliverRetain) != 0,
                             std::string(m->topic()), std::string(m->payload())});
    }
    return out;
  }
  static std::vector<std::string> payloads(const std::vector<Delivery>& ds) {
    std::vector<std::string> out;
    for (const Delivery& d : ds)
      out.push_back(d.payload);
    return out;
  }
  std::uint64_t dropped() const {
    return stats.shards[0].messages_dropped.load(std::memory_order_relaxed);
  }
  // A gauge of the shard's (ShardCounters::messages_queued, sessions, ...).
  std::uint64_t gauge(std::atomic<std::uint64_t> ShardCounters::*g) const {
    return (stats.shards[0].*g).load(std::memory_order_relaxed);
  }

  // Declared in the order shard.cpp builds them; destroyed in reverse.
  ShardMesh mesh;
  NullLoop loop0;
  NullLoop loop1;
  NullEvents events;
  Config cfg;
  TwoShardStats stats;
  ShardContext ctx{0, 2, cfg, stats.shards[0]};
  std::vector<std::unique_ptr<ListenerRuntime>> listeners;
  std::unique_ptr<AccessControl> access = make_access_control(cfg, nullptr, [] {});  // allow-all
  StorageLink storage;
  ConnectionTable connections{ctx, listeners};
  MeshLink link{ctx, mesh, connections};
  RecordingHandler self;
  RetainedStore retained{ctx, link, storage};
  SubscriptionIndex index{ctx, link};
  SessionStore store{ctx, index, retained, link, connections, storage, *access};
  Router router{ctx, index, store, retained, link, storage};

  std::vector<ShardEnvelope> kept;     // everything popped, freed at the end
  std::vector<ShardEnvelope> routing;  // barriers, interest and retained updates popped
};

}  // namespace shardmq::broker::test
