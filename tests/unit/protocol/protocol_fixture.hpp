// One shard's parts without sockets: a loop that does nothing, connections made by
// ConnectionTable::accept, bytes fed through ClientProtocol::on_data, and what the broker
// would send read back from each connection's output and decoded. The authenticator,
// authoriser and storage sink are the test's own, so the hooks the parts call can be driven.
#pragma once

#include <catch2/catch.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/auth/access_control.hpp"
#include "broker/connection/client_protocol.hpp"
#include "broker/connection/connection_table.hpp"
#include "broker/listener/listener.hpp"
#include "broker/mesh/mesh_link.hpp"
#include "broker/retained/retained_store.hpp"
#include "broker/routing/router.hpp"
#include "broker/routing/subscription_index.hpp"
#include "broker/session/session_store.hpp"
#include "broker/storage/storage_link.hpp"
#include "core/decoder.hpp"
#include "core/encoder.hpp"

namespace protocol_test {

using namespace shardmq;
using namespace shardmq::broker;

class NullLoop final : public io::Loop {
 public:
  io::Backend backend() const override { return io::Backend::epoll; }
  int listen(const std::string&, std::uint16_t, std::uint32_t,
             const io::ListenerOptions&) override {
    return -1;
  }
  void start(io::SocketId, void*) override {}
  void pause_recv(io::SocketId) override { ++pauses; }
  void resume_recv(io::SocketId) override { ++resumes; }
  void send(io::SocketId, const iovec*, int) override {}
  void close(io::SocketId s) override { closed.push_back(s); }
  void stop_listening() override {}
  void set_tick_interval(unsigned) override {}
  void wake() override {}
  void run(io::LoopHandler&) override {}
  void stop() override {}
  std::size_t socket_capacity() const override { return 0; }

  int pauses = 0, resumes = 0;
  std::vector<io::SocketId> closed;
};

// Answers every CONNECT with `verdict`, at once or (deferred) when the test says so.
class TestAuthenticator final : public Authenticator {
 public:
  void authenticate(const ConnectCredentials& who, std::uint32_t serial,
                    AuthWaiter& waiter) override {
    usernames.emplace_back(who.username.value_or("<none>"));
    if (deferred) {
      waiting.emplace_back(serial, &waiter);
      return;
    }
    waiter.on_authenticated(serial, verdict);
  }
  void answer_all(AuthVerdict v) {
    auto w = std::move(waiting);
    waiting.clear();
    for (auto [serial, waiter] : w)
      waiter->on_authenticated(serial, v);
  }

  AuthVerdict verdict = AuthVerdict::accepted;
  bool deferred = false;
  std::vector<std::pair<std::uint32_t, AuthWaiter*>> waiting;
  std::vector<std::string> usernames;
};

// Denies every topic or filter that starts with `prefix` (for the action it is set for).
class TestAuthoriser final : public Authoriser {
 public:
  bool restricts() const override { return true; }
  bool may_publish(const ClientIdentity&, std::string_view t) override {
    return !deny_publish || !t.starts_with(prefix);
  }
  bool may_subscribe(const ClientIdentity&, std::string_view f) override {
    return !deny_subscribe || !f.starts_with(prefix);
  }
  bool may_receive(const ClientIdentity&, std::string_view t) override {
    return !deny_receive || !t.starts_with(prefix);
  }
  std::string prefix = "secret/";
  bool deny_publish = false, deny_subscribe = false, deny_receive = false;
};

// Counts what it is told; durable up to what the test sets.
class TestSink final : public StorageSink {
 public:
  void session_opened(std::string_view, std::optional<std::string_view>, std::uint32_t) override {
    ++writes;
  }
  void session_ended(std::string_view) override { ++writes; }
  void subscription_added(std::string_view, std::string_view, const SubscriptionOptions&) override {
    ++writes;
  }
  void subscription_removed(std::string_view, std::string_view) override { ++writes; }
  void message_added(std::string_view, const PublishedMessage&, std::uint8_t, std::uint16_t, bool,
                     std::uint32_t) override {
    ++writes;
    ++messages;
  }
  void message_released(std::string_view, std::uint16_t) override { ++writes; }
  void message_done(std::string_view, std::uint16_t) override { ++writes; }
  void inbound_qos2_received(std::string_view, std::uint16_t id) override {
    ++writes;
    inbound.push_back(id);
  }
  void inbound_qos2_released(std::string_view, std::uint16_t id) override {
    ++writes;
    std::erase(inbound, id);
  }
  void will_changed(std::string_view, const PublishedMessage*) override { ++writes; }
  void retained_changed(const PublishedMessage&) override { ++writes; }
  std::uint64_t durable_through() const override { return durable; }

  std::uint64_t writes = 0, messages = 0, durable = 0;
  std::vector<std::uint16_t> inbound;  // QoS 2 ids received and not released
};

struct Shard1 : EnvelopeHandler {
  explicit Shard1(std::unique_ptr<StorageSink> sink = nullptr, Config config = Config{})
      : cfg(std::move(config)),
        stats_init((stats.init(1), 0)),
        mesh(1, 64),
        ctx{0, 1, cfg, stats.shards[0]},
        storage(std::move(sink)),
        access(std::unique_ptr<Authenticator>(authenticator),
               std::unique_ptr<Authoriser>(authoriser)),
        connections(ctx, listeners),
        link(ctx, mesh, connections),
        retained(ctx, link, storage),
        index(ctx, link),
        sessions(ctx, index, retained, link, connections, storage, access),
        router(ctx, index, sessions, retained, link, storage),
        protocol(ctx, connections, sessions, router, link, access, storage) {
    mesh.attach_loop(0, &loop);
    connections.attach(&loop, &protocol);
    sessions.set_will_publisher(&protocol);
    link.set_handler(this);
  }

  ~Shard1() override {
    // As the loop would: every socket closes and is freed (its session goes with it).
    connections.for_each([&](Connection& c) {
      connections.close(c, ConnectionTable::CloseKind::abrupt);
      connections.on_closed(c);
    });
  }

  // The subset of Shard::on_envelope one shard sends itself.
  void on_envelope(const ShardEnvelope& e) override {
    using K = ShardEnvelope::Kind;
    switch (e.kind) {
      case K::attached: {
        auto* r = static_cast<AttachReply*>(e.ptr);
        protocol.on_attached(*r, e.from);
        delete r;
        return;
      }
      case K::packet: {
        auto* p = static_cast<core::Packet*>(e.ptr);
        protocol.on_session_packet(e.target, *p);
        delete p;
        return;
      }
      case K::kick:
        return protocol.on_kick(e.target);
      default:
        FAIL("unexpected envelope to this shard");
    }
  }

  Connection& open() {
    Connection* c = connections.accept(0, next_socket++, io::PeerAddress{});
    REQUIRE(c);
    return *c;
  }
  void feed(Connection& c, const core::Packet& p, core::ProtocolVersion v) {
    std::vector<std::byte> buf(core::encoded_size(p, v));
    REQUIRE(core::encode(p, v, buf).has_value());
    protocol.on_data(c, buf);
  }
  // End of turn, as the shard runs it.
  void turn() {
    protocol.resume_waiting();
    sessions.on_turn_end();
    protocol.finish_too_large();
    protocol.release_acks();
  }
  // Everything written to the client since the last call, decoded.
  std::vector<core::Packet> sent(Connection& c) {
    std::vector<core::Packet> out;
    auto& pending = c.out.pending();
    std::span<const std::byte> data(pending.data(), pending.size());
    core::DecodeOptions o;
    o.version = c.version;
    o.is_server = false;
    while (!data.empty()) {
      auto f = core::peek_frame(data);
      REQUIRE(f.has_value());
      REQUIRE(f->header_size != 0);
      core::Packet p;
      REQUIRE(core::decode_frame(data.first(f->total_size), f->header_size, o, p) ==
              core::DecodeError::Ok);
      out.push_back(std::move(p));
      data = data.subspan(f->total_size);
    }
    pending.clear();
    return out;
  }
  Connection& connect(std::string_view id, core::ProtocolVersion v,
                      std::optional<std::string_view> user = std::nullopt) {
    Connection& c = open();
    core::Connect con;
    con.version = v;
    con.client_id = id;
    con.username = user;
    feed(c, con, v);
    turn();
    return c;
  }

  Config cfg;
  BrokerStats stats;
  int stats_init;
  ShardMesh mesh;
  NullLoop loop;
  ShardContext ctx;
  std::vector<std::unique_ptr<ListenerRuntime>> listeners;
  TestAuthenticator* authenticator = new TestAuthenticator;
  TestAuthoriser* authoriser = new TestAuthoriser;
  StorageLink storage;
  AccessControl access;
  ConnectionTable connections;
  MeshLink link;
  RetainedStore retained;
  SubscriptionIndex index;
  SessionStore sessions;
  Router router;
  ClientProtocol protocol;
  io::SocketId next_socket = 1;
};

template <typename T>
const T& only(const std::vector<core::Packet>& ps) {
  REQUIRE(ps.size() == 1);
  REQUIRE(std::holds_alternative<T>(ps[0]));
  return std::get<T>(ps[0]);
}

}  // namespace protocol_test
