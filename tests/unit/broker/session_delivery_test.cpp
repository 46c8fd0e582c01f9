// SessionStore: the outgoing QoS 1/2 window, acknowledgements, the queue of an absent
// client and its limits, and what a returning client is sent again.
#include <catch2/catch.hpp>

#include <set>

#include "shard_parts.hpp"

namespace shardmq::broker::test {
namespace {

using core::PacketType;

std::vector<std::string> names(const char* prefix, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i)
    out.push_back(prefix + std::to_string(i));
  return out;
}

TEST_CASE("delivery: QoS 1 keeps receive_maximum in flight and each PUBACK sends the next",
          "[broker][delivery]") {
  ShardParts f;
  Attached a = f.connect(ShardParts::request("sub", 1, true, 0, 2));
  Session* s = a.session;
  f.subscribe(s, 1, "t", 1);
  for (const std::string& p : names("m", 0, 5))
    f.publish("t", p, 1);

  auto first = ShardParts::deliveries(f.to_clients());
  REQUIRE(ShardParts::payloads(first) == names("m", 0, 2));
  for (const Delivery& d : first) {
    CHECK(d.serial == 1);
    CHECK(d.qos == 1);
    CHECK_FALSE(d.dup);
    CHECK(d.packet_id != 0);
  }
  CHECK(first[0].packet_id != first[1].packet_id);
  CHECK(s->inflight.size() == 2);
  CHECK(s->queue.size() == 3);
  CHECK(f.gauge(&ShardCounters::messages_inflight) == 2);
  CHECK(f.gauge(&ShardCounters::messages_queued) == 3);
  CHECK(f.gauge(&ShardCounters::sessions) == 1);
  CHECK(f.gauge(&ShardCounters::sessions_online) == 1);

  SECTION("a PUBACK of an unknown id changes nothing") {
    std::uint16_t unknown = 1;
    while (unknown == first[0].packet_id || unknown == first[1].packet_id)
      ++unknown;
    f.ack(s, 1, PacketType::PubAck, unknown);
    CHECK(f.to_clients().empty());
    CHECK(s->inflight.size() == 2);
    CHECK(s->queue.size() == 3);
  }
  SECTION("a PUBACK from another connection changes nothing") {
    f.ack(s, 9, PacketType::PubAck, first[0].packet_id);
    CHECK(f.to_clients().empty());
    CHECK(s->inflight.size() == 2);
  }
  SECTION("each PUBACK releases the next, in order") {
    std::set<std::uint16_t> live{first[0].packet_id, first[1].packet_id};
    std::vector<Delivery> order = first;
    for (std::size_t i = 0; i < 5; ++i) {
      live.erase(order[i].packet_id);
      f.ack(s, 1, PacketType::PubAck, order[i].packet_id);
      auto next = ShardParts::deliveries(f.to_clients());
      if (i + 2 < 5) {
        REQUIRE(next.size() == 1);
        CHECK(next[0].payload == "m" + std::to_string(i + 2));
        CHECK(next[0].packet_id != 0);
        CHECK(live.count(next[0].packet_id) == 0);  // no id held twice
        live.insert(next[0].packet_id);
        order.push_back(next[0]);
      } else {
        CHECK(next.empty());
      }
      CHECK(s->inflight.size() <= 2);
    }
    CHECK(s->inflight.empty());
    CHECK(s->queue.empty());
    CHECK(s->queued_bytes == 0);
    CHECK(f.gauge(&ShardCounters::messages_inflight) == 0);
    CHECK(f.gauge(&ShardCounters::messages_queued) == 0);
  }
  SECTION("a session that ends drops what it held, and the gauges with it") {
    f.disconnect(s, 1);
    CHECK(f.gauge(&ShardCounters::sessions_online) == 0);
    CHECK(f.gauge(&ShardCounters::sessions) == 0);  // Session Expiry 0: it ends with the link
    CHECK(f.gauge(&ShardCounters::messages_inflight) == 0);
    CHECK(f.gauge(&ShardCounters::messages_queued) == 0);
    f.connect(ShardParts::request("sub", 2, true, 0, 2));
    CHECK(f.gauge(&ShardCounters::sessions) == 1);
    CHECK(f.gauge(&ShardCounters::sessions_online) == 1);
  }
}

TEST_CASE("delivery: the window is the smaller of max_inflight and receive_maximum",
          "[broker][delivery]") {
  Config c;
  c.max_inflight = 3;
  ShardParts f(c);
  Attached a = f.connect(ShardParts::request("sub", 1, true, 0, 100));
  f.subscribe(a.session, 1, "t", 2);
  for (const std::string& p : names("m", 0, 6))
    f.publish("t", p, 1);
  CHECK(ShardParts::deliveries(f.to_clients()).size() == 3);
  CHECK(a.session->queue.size() == 3);
}

TEST_CASE("delivery: QoS 2 goes PUBREC -> PUBREL, and PUBCOMP frees the slot",
          "[broker][delivery][qos2]") {
  ShardParts f;
  Attached a = f.connect(ShardParts::request("sub", 1, false, 60, 1));
  Session* s = a.session;
  f.subscribe(s, 1, "t", 2);
  f.publish("t", "one", 2);
  f.publish("t", "two", 2);
  auto ds = ShardParts::deliveries(f.to_clients());
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].payload == "one");
  CHECK(ds[0].qos == 2);
  const std::uint16_t id = ds[0].packet_id;

  // Neither PUBACK nor an early PUBCOMP finishes a QoS 2 message.
  f.ack(s, 1, PacketType::PubAck, id);
  f.ack(s, 1, PacketType::PubComp, id);
  CHECK(f.to_clients().empty());
  CHECK(s->inflight.size() == 1);

  f.ack(s, 1, PacketType::PubRec, id);
  auto got = f.to_clients();
  REQUIRE(got.size() == 1);
  CHECK(got[0].kind == Kind::release);
  CHECK(got[0].target == 1);
  CHECK(got[0].aux == id);
  CHECK(s->inflight.size() == 1);  // PUBREL sent: the slot waits for PUBCOMP

  SECTION("PUBCOMP frees the slot and the next message goes") {
    f.ack(s, 1, PacketType::PubComp, id);
    auto next = ShardParts::deliveries(f.to_clients());
    REQUIRE(next.size() == 1);
    CHECK(next[0].payload == "two");
    CHECK(next[0].qos == 2);
    CHECK_FALSE(next[0].dup);
    CHECK(s->inflight.size() == 1);
    CHECK(s->queue.empty());
  }
  SECTION("a returning client is sent the PUBREL again, not the PUBLISH") {
    f.disconnect(s, 1);
    Attached b = f.connect(ShardParts::request("sub", 2, false, 60, 1));
    CHECK(b.present);
    REQUIRE(b.after.size() == 1);
    CHECK(b.after[0].kind == Kind::release);
    CHECK(b.after[0].target == 2);
    CHECK(b.after[0].aux == id);
  }
}

TEST_CASE("delivery: an absent client's queue keeps the oldest and drops the newest",
          "[broker][delivery][queue]") {
  Config c;
  c.max_queued_messages = 3;
  ShardParts f(c);
  Attached a = f.connect(ShardParts::request("sub", 1, false, 60, 2));
  Session* s = a.session;
  f.subscribe(s, 1, "q", 1);
  f.publish("q", "m0", 1);
  f.publish("q", "m1", 1);
  auto sent = ShardParts::deliveries(f.to_clients());
  REQUIRE(ShardParts::payloads(sent) == names("m", 0, 2));
  f.disconnect(s, 1);

  for (const std::string& p : names("m", 2, 7))
    f.publish("q", p, 1);
  CHECK(s->queue.size() == 3);
  CHECK(f.dropped() == 2);  // m5 and m6
  f.publish("q", "qos0", 0);
  CHECK(s->queue.size() == 3);  // QoS 0 is not queued for an absent client
  CHECK(f.dropped() == 2);
  CHECK(f.to_clients().empty());

  Attached b = f.connect(ShardParts::request("sub", 2, false, 60, 2));
  REQUIRE(b.present);
  // What was in flight goes again first, in order, with DUP and its packet id.
  auto again = ShardParts::deliveries(b.after);
  REQUIRE(again.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(again[i].payload == sent[i].payload);
    CHECK(again[i].packet_id == sent[i].packet_id);
    CHECK(again[i].dup);
    CHECK(again[i].serial == 2);
  }
  // Then the queue, in order, as the window opens.
  std::vector<std::string> rest;
  std::vector<std::uint16_t> acks{sent[0].packet_id, sent[1].packet_id};
  for (std::size_t i = 0; i < acks.size(); ++i) {
    f.ack(s, 2, PacketType::PubAck, acks[i]);
    for (const Delivery& d : ShardParts::deliveries(f.to_clients())) {
      CHECK_FALSE(d.dup);
      rest.push_back(d.payload);
      acks.push_back(d.packet_id);
    }
  }
  CHECK(rest == names("m", 2, 5));
  CHECK(s->inflight.empty());
  CHECK(s->queue.empty());
}

TEST_CASE("delivery: max_queued_bytes bounds an absent client's queue",
          "[broker][delivery][queue]") {
  Config c;
  c.max_queued_bytes = 10;  // topic + payload: 1 + 4 bytes per message
  ShardParts f(c);
  Attached a = f.connect(ShardParts::request("sub", 1, false, 60));
  f.subscribe(a.session, 1, "q", 1);
  f.disconnect(a.session, 1);
  for (const std::string& p : names("abc", 0, 3))
    f.publish("q", p, 1);
  CHECK(a.session->queue.size() == 2);
  CHECK(a.session->queued_bytes == 10);
  CHECK(f.dropped() == 1);
}

TEST_CASE("delivery: overlapping subscriptions give one delivery at the highest QoS",
          "[broker][delivery]") {
  ShardParts f;
  Attached a = f.connect(ShardParts::request("sub", 1));
  // Whichever of the two the index matches first.
  SECTION("the wider filter grants more") {
    f.subscribe(a.session, 1, "a/+", 0, 1);
    f.subscribe(a.session, 1, "a/#", 1, 2);
  }
  SECTION("the narrower filter grants more") {
    f.subscribe(a.session, 1, "a/+", 1, 1);
    f.subscribe(a.session, 1, "a/#", 0, 2);
  }
  f.publish("a/b", "x", 2);
  auto ds = ShardParts::deliveries(f.to_clients());
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].qos == 1);
}

TEST_CASE("delivery: retained messages follow the SUBACK with retain set, live ones without",
          "[broker][delivery][retained]") {
  ShardParts f;
  f.publish("r/1", "kept 1", 1, true);
  f.publish("r/2", "kept 2", 2, true);
  Attached a = f.connect(ShardParts::request("sub", 1));
  CHECK(f.subscribe(a.session, 1, "r/#", 1, 1, core::RetainHandling::SendOnSubscribe) ==
        std::vector<core::ReasonCode>{core::ReasonCode::GrantedQoS1});
  // The socket is on another shard: the stream goes at the end of the turn.
  CHECK(f.to_clients().empty());
  f.store.on_turn_end();
  auto ds = ShardParts::deliveries(f.to_clients());
  REQUIRE(ds.size() == 2);
  std::set<std::string> got;
  for (const Delivery& d : ds) {
    CHECK(d.retain);
    CHECK(d.qos == 1);
    got.insert(d.payload);
  }
  CHECK(got == std::set<std::string>{"kept 1", "kept 2"});

  f.publish("r/1", "live", 1, true);
  auto live = ShardParts::deliveries(f.to_clients());
  REQUIRE(live.size() == 1);
  CHECK(live[0].payload == "live");
  CHECK_FALSE(live[0].retain);

  // Retain Handling 2: a new subscription is sent nothing.
  f.subscribe(a.session, 1, "r/+", 1, 2, core::RetainHandling::DoNotSend);
  f.store.on_turn_end();
  CHECK(f.to_clients().empty());
}

}  // namespace
}  // namespace shardmq::broker::test
