// A live subscriber's full QoS 1/2 queue holds back the publishers whose messages wait for
// it (hold_publisher envelopes to their shard) instead of dropping; one silent for
// limits.slow_consumer_timeout_ms lets them go and drops its excess; PublisherHolds itself.
#include <catch2/catch.hpp>

#include "broker/session/publisher_holds.hpp"
#include "shard_parts.hpp"

namespace shardmq::broker::test {
namespace {

using core::PacketType;

TEST_CASE("publisher holds: one per session and publisher, all let go together",
          "[broker][congestion]") {
  PublisherHolds h;
  int a = 0, b = 0;
  CHECK(h.add(&a, ConnectionRef{1, 7}));
  CHECK_FALSE(h.add(&a, ConnectionRef{1, 7}));  // already held for this session
  CHECK(h.add(&a, ConnectionRef{0, 7}));        // the same serial on another shard
  CHECK(h.add(&b, ConnectionRef{1, 7}));        // the same publisher for another session
  CHECK(h.size() == 3);
  std::vector<ConnectionRef> let_go;
  h.release(&a, [&](ConnectionRef c) { let_go.push_back(c); });
  CHECK(let_go == std::vector<ConnectionRef>{{1, 7}, {0, 7}});
  CHECK_FALSE(h.holds(&a));
  CHECK(h.holds(&b));
  CHECK(h.size() == 1);
  h.release(&a, [&](ConnectionRef) { FAIL("nothing left to let go"); });
  CHECK(h.add(&a, ConnectionRef{1, 7}));  // held again after the release
}

// hold_publisher envelopes among those shard 0 sent shard 1 (publishers there).
std::vector<ShardEnvelope> holds_sent(ShardParts& f) {
  f.to_clients();
  std::vector<ShardEnvelope> out = ShardParts::of_kind(f.routing, Kind::hold_publisher);
  f.routing.clear();
  return out;
}

struct Congested {
  Config config() {
    Config c;
    c.max_queued_messages = 4;  // congested from 2 queued, drained at 1
    c.slow_consumer_timeout_ms = 1000;
    return c;
  }
  ShardParts f{config()};
  Session* s = nullptr;

  Congested() {
    s = f.connect(ShardParts::request("sub", 1, true, 0, 1)).session;  // window of 1
    f.subscribe(s, 1, "t", 1);
  }
  void publish(int n, ConnectionRef from = ConnectionRef{1, 7}) {
    for (int i = 0; i < n; ++i)
      f.publish("t", "m", 1, false, from);
  }
  // The subscriber acknowledges what it has in flight (its window: one).
  void ack_in_flight() {
    std::vector<std::uint16_t> ids;
    for (const OutgoingMessage& m : s->inflight)
      ids.push_back(m.packet_id);
    for (std::uint16_t id : ids)
      f.ack(s, 1, PacketType::PubAck, id);
  }
};

TEST_CASE("congestion: a live subscriber's full queue pauses its publisher, never drops",
          "[broker][congestion]") {
  Congested c;
  c.publish(2);  // one in flight, one queued
  CHECK(holds_sent(c.f).empty());
  c.publish(1);  // two queued: congested
  auto held = holds_sent(c.f);
  REQUIRE(held.size() == 1);
  CHECK(held[0].flags == 1);
  CHECK(held[0].target == 7);
  c.publish(10);  // what the publisher had sent already: queued past the limit, once held
  CHECK(holds_sent(c.f).empty());
  CHECK(c.s->queue.size() == 12);
  CHECK(c.f.dropped() == 0);

  // The subscriber acknowledges: one at a time moves from the queue into flight.
  while (c.s->queue.size() > 2) {
    c.ack_in_flight();
    CHECK(holds_sent(c.f).empty());
  }
  c.ack_in_flight();  // one queued: drained
  CHECK(c.s->queue.size() == 1);
  auto released = holds_sent(c.f);
  REQUIRE(released.size() == 1);
  CHECK(released[0].flags == 0);
  CHECK(released[0].target == 7);
  CHECK(c.f.dropped() == 0);
}

TEST_CASE("congestion: a subscriber silent past slow_consumer_timeout_ms lets go and drops",
          "[broker][congestion]") {
  Congested c;
  c.publish(3);
  REQUIRE(holds_sent(c.f).size() == 1);
  c.f.tick(9);  // under 1 s without an acknowledgement: still holding
  CHECK(holds_sent(c.f).empty());
  c.f.tick(1);
  auto released = holds_sent(c.f);
  REQUIRE(released.size() == 1);
  CHECK(released[0].flags == 0);
  c.publish(5);  // the queue fills to its limit (4); the rest is dropped and counted
  CHECK(c.s->queue.size() == 4);
  CHECK(c.f.dropped() == 3);
  CHECK(holds_sent(c.f).empty());
}

TEST_CASE("congestion: the session's end and its client's departure let the publisher go",
          "[broker][congestion]") {
  Congested c;
  c.publish(3);
  REQUIRE(holds_sent(c.f).size() == 1);
  c.f.disconnect(c.s, 1);  // clean session: the session ends with it
  auto released = holds_sent(c.f);
  REQUIRE(released.size() == 1);
  CHECK(released[0].flags == 0);
}

TEST_CASE(
    "congestion: a publisher on the session's own shard is held there; its own client "
    "never",
    "[broker][congestion]") {
  Congested c;
  c.publish(3, ConnectionRef{0, 9});  // on shard 0: handled at once (MeshLink::send)
  auto mine = ShardParts::of_kind(c.f.self.got, Kind::hold_publisher);
  REQUIRE(mine.size() == 1);
  CHECK(mine[0].target == 9);
  CHECK(holds_sent(c.f).empty());

  c.publish(3, ConnectionRef{1, 1});  // the subscriber's own connection: its acks must flow
  CHECK(holds_sent(c.f).empty());
  CHECK(c.f.dropped() == 0);
}

}  // namespace
}  // namespace shardmq::broker::test

namespace shardmq::broker::test {
namespace {

TEST_CASE(
    "congestion: a held publisher is not read while any session holds it, and its "
    "keepalive counts from when it is read again",
    "[broker][congestion]") {
  ShardParts f;
  Connection* c = f.connections.accept(0, 42, io::PeerAddress{});
  REQUIRE(c);
  c->state = Connection::State::connected;  // as after its CONNACK
  f.stats.shards[0].clients_connected.store(1);
  c->keepalive_s = 1;  // silent for 15 ticks: closed
  f.connections.arm_keepalive(*c);

  f.connections.hold_publisher(c->serial, true);  // two sessions hold it
  f.connections.hold_publisher(c->serial, true);
  CHECK(c->overload_paused);
  CHECK(f.loop0.paused == 1);
  f.ctx.tick += 40;  // its PINGREQs wait unread meanwhile
  f.connections.on_tick();
  CHECK(c->state == Connection::State::connected);

  f.connections.hold_publisher(c->serial, false);
  CHECK(c->overload_paused);  // the other still holds it
  CHECK(f.loop0.resumed == 0);
  f.connections.hold_publisher(c->serial, false);
  CHECK_FALSE(c->overload_paused);
  CHECK(f.loop0.resumed == 1);
  f.connections.hold_publisher(c->serial, false);     // nothing left to release: no change
  f.connections.hold_publisher(c->serial + 1, true);  // no such connection
  CHECK(f.loop0.resumed == 1);
  CHECK(f.loop0.paused == 1);

  f.ctx.tick += 14;
  f.connections.on_tick();
  CHECK(c->state == Connection::State::connected);
  f.ctx.tick += 2;  // 16 ticks since it was read again, and silent
  f.connections.on_tick();
  CHECK(c->state == Connection::State::closing);
  f.connections.on_closed(*c);
}

}  // namespace
}  // namespace shardmq::broker::test
