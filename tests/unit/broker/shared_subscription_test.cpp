// Shared subscriptions through the session store and the router of shard 0, which here is
// both the members' home and the group's owner: joining (the SUBACK waits for the owner),
// one member per message, and a leaving member's QoS 1 messages passed to another.
#include <xxhash.h>
#include <catch2/catch.hpp>

#include <set>

#include "shard_parts.hpp"

namespace shardmq::broker::test {
namespace {

// A share name whose group "{name}/{filter}" is owned by `shard` of 2.
std::string group_owned_by(unsigned shard, const std::string& filter) {
  for (int i = 0;; ++i) {
    std::string key = "g" + std::to_string(i) + "/" + filter;
    if (XXH3_64bits(key.data(), key.size()) % 2 == shard) return "$share/" + key;
  }
}
std::string group_owned_by_shard0(const std::string& filter) {
  return group_owned_by(0, filter);
}

// Hands what shard 0 sent itself to the part that takes it, as Shard::on_envelope would,
// until nothing more comes; answers the barriers the other shard would answer.
void settle(ShardParts& f) {
  for (int round = 0; round < 100; ++round) {
    f.link.barrier_answered(1, f.link.last_barrier());
    f.store.barriers_answered(f.link.barriers_done());
    std::vector<ShardEnvelope> got;
    got.swap(f.self.got);
    if (got.empty()) return;
    for (const ShardEnvelope& e : got) {
      switch (e.kind) {
        case Kind::shared_join:
          f.store.shared_join(static_cast<SharedJoin*>(e.ptr), e.from);
          break;
        case Kind::shared_joined:
          f.store.shared_joined(static_cast<SubscribeRequest*>(e.ptr));
          break;
        case Kind::shared_state:
          f.index.shared_state(e.from, e.target, e.flags != 0);
          break;
        case Kind::shared_leave:
          f.router.shared_leave(static_cast<SharedLeave*>(e.ptr), e.from);
          break;
        case Kind::shared_bounce:
          f.router.shared_bounce(static_cast<PublishedMessage*>(e.ptr), e.seq);
          break;
        default:
          f.kept.push_back(e);
          break;
      }
    }
  }
  FAIL("shard 0 keeps sending itself envelopes");
}

std::vector<core::ReasonCode> subscribe(ShardParts& f, Session* s, std::uint32_t serial,
                                        const std::string& filter, std::uint8_t qos) {
  auto* req = new SubscribeRequest;
  req->session = s;
  req->connection = ConnectionRef{1, serial};
  req->packet_id = 9;
  SubscribeRequest::Item item;
  item.filter = filter;
  item.options.max_qos = qos;
  req->items.push_back(std::move(item));
  f.store.subscribe(req);
  settle(f);
  for (const ShardEnvelope& e : f.to_clients()) {
    if (e.kind != Kind::packet || e.target != serial) continue;
    const auto* ack = std::get_if<core::SubAck>(static_cast<core::Packet*>(e.ptr));
    if (ack) return ack->reason_codes;
  }
  return {};
}

TEST_CASE("shared: each message goes to one member, in turn", "[broker][shared]") {
  ShardParts f;
  const std::string share = group_owned_by_shard0("t/+");
  Session* a = f.connect(ShardParts::request("a", 1)).session;
  Session* b = f.connect(ShardParts::request("b", 2)).session;
  REQUIRE(subscribe(f, a, 1, share, 1) == std::vector{core::ReasonCode{1}});
  REQUIRE(subscribe(f, b, 2, share, 0) == std::vector{core::ReasonCode{0}});
  for (int i = 0; i < 10; ++i)
    f.publish("t/x", "m" + std::to_string(i), 1);
  settle(f);
  auto got = ShardParts::deliveries(f.to_clients());
  REQUIRE(got.size() == 10);
  int to_a = 0;
  for (const Delivery& d : got) {
    if (d.serial == 1) {
      ++to_a;
      CHECK(d.qos == 1);
    } else {
      CHECK(d.qos == 0);  // b was granted QoS 0
    }
  }
  CHECK(to_a == 5);
}

TEST_CASE("shared: a member whose session ends hands its QoS 1 messages to another",
          "[broker][shared]") {
  ShardParts f;
  const std::string share = group_owned_by_shard0("r");
  Session* a = f.connect(ShardParts::request("a", 1, true, 0, 2)).session;  // window 2
  Session* b = f.connect(ShardParts::request("b", 2)).session;
  subscribe(f, a, 1, share, 1);
  subscribe(f, b, 2, share, 1);
  for (int i = 0; i < 10; ++i)
    f.publish("r", "m" + std::to_string(i), 1);
  settle(f);
  auto first = ShardParts::deliveries(f.to_clients());
  CHECK(a->inflight.size() == 2);
  CHECK(a->queue.size() == 3);
  f.disconnect(a, 1);  // clean session: it ends, with 2 in flight and 3 queued
  settle(f);
  auto after = ShardParts::deliveries(f.to_clients());
  std::set<std::string> to_b;
  for (const Delivery& d : first)
    if (d.serial == 2) to_b.insert(d.payload);
  for (const Delivery& d : after) {
    CHECK(d.serial == 2);
    to_b.insert(d.payload);
  }
  CHECK(to_b.size() == 10);
}

TEST_CASE("shared: an offline member is skipped, and retained messages are not sent",
          "[broker][shared]") {
  ShardParts f;
  const std::string share = group_owned_by_shard0("o");
  f.publish("o", "kept", 1, true);
  Session* away = f.connect(ShardParts::request("away", 1, true, 300)).session;
  Session* here = f.connect(ShardParts::request("here", 2)).session;
  subscribe(f, away, 1, share, 1);
  subscribe(f, here, 2, share, 1);
  settle(f);
  CHECK(ShardParts::deliveries(f.to_clients()).empty());  // no retained message
  f.disconnect(away, 1);
  settle(f);
  for (int i = 0; i < 6; ++i)
    f.publish("o", "m" + std::to_string(i), 1);
  settle(f);
  auto got = ShardParts::deliveries(f.to_clients());
  CHECK(got.size() == 6);
  for (const Delivery& d : got)
    CHECK(d.serial == 2);
  CHECK(away->queue.empty());
}

}  // namespace
}  // namespace shardmq::broker::test

namespace shardmq::broker::test {
namespace {

TEST_CASE("shared: a delivery for a member that left goes back to the owner", "[broker][shared]") {
  ShardParts f;
  const std::string share = group_owned_by_shard0("b");
  Session* a = f.connect(ShardParts::request("a", 1)).session;
  subscribe(f, a, 1, share, 1);
  // As if shard 1 owned the group and chose slot 0 in an older generation.
  auto* m = PublishedMessage::create("b", "", "late", 1, false, 0);
  f.store.shared_deliver(ShardEnvelope{Kind::shared_deliver, 0, 1, 77, m, 0, 12345});
  f.to_clients();
  bool bounced = false;
  for (const ShardEnvelope& e : f.routing)
    if (e.kind == Kind::shared_bounce) {
      bounced = true;
      CHECK(e.seq == 77);  // the group, as the owner named it
      CHECK(static_cast<PublishedMessage*>(e.ptr) == m);
    }
  CHECK(bounced);
  CHECK(a->inflight.empty());
}

TEST_CASE("shared: 3.1.1 and 5.0 members, and switched off", "[broker][shared]") {
  Config off;
  off.shared_subscriptions = false;
  ShardParts f(off);
  Session* v5 = f.connect(ShardParts::request("v5", 1)).session;
  Session* v3 =
      f.connect(ShardParts::request("v3", 2, true, 0, 65535, core::ProtocolVersion::v311)).session;
  CHECK(subscribe(f, v5, 1, "$share/g/t", 1) ==
        std::vector{core::ReasonCode::SharedSubscriptionsNotSupported});
  CHECK(subscribe(f, v3, 2, "$share/g/t", 1) == std::vector{core::ReasonCode{0x80}});
}

}  // namespace
}  // namespace shardmq::broker::test

namespace shardmq::broker::test {
namespace {

Config local_first() {
  Config c;
  c.shared_strategy = SharedStrategy::local_first;
  return c;
}

TEST_CASE("shared: local first, a publish entering the member's home goes to it there",
          "[broker][shared]") {
  ShardParts f(local_first());
  const std::string share = group_owned_by(1, "lf");
  Session* a = f.connect(ShardParts::request("a", 1)).session;
  auto* req = new SubscribeRequest;
  req->session = a;
  req->connection = ConnectionRef{1, 1};
  req->packet_id = 3;
  SubscribeRequest::Item item;
  item.filter = share;
  item.options.max_qos = 1;
  req->items.push_back(std::move(item));
  f.store.subscribe(req);
  f.to_clients();
  SharedJoin* join = nullptr;
  for (const ShardEnvelope& e : f.routing)
    if (e.kind == Kind::shared_join) join = static_cast<SharedJoin*>(e.ptr);
  REQUIRE(join);  // to the owner, shard 1
  CHECK(join->online);
  f.store.shared_joined(join->request);  // as shard 1 answers
  for (int i = 0; i < 4; ++i)
    f.publish("lf", "m" + std::to_string(i), 1);
  auto got = ShardParts::deliveries(f.to_clients());
  CHECK(got.size() == 4);  // delivered here, without the owner
}

TEST_CASE("shared: local first, the owner skips what the publishing shard delivered",
          "[broker][shared]") {
  ShardParts f(local_first());
  const std::string key = group_owned_by_shard0("sk").substr(7);
  auto* j = new SharedJoin;  // a member homed on shard 1, online
  j->key = key;
  j->filter_at = key.find('/') + 1;
  j->index = 5;
  j->generation = 1;
  j->online = true;
  f.store.shared_join(j, 1);
  settle(f);
  auto from_shard1 = [&] {
    f.router.route_arrived(PublishedMessage::create("sk", "", "x", 1, false, 0), 1, 0);
  };
  from_shard1();  // shard 1 had an online member: it delivered, the owner does not
  f.to_clients();
  auto count = [&] {
    int n = 0;
    for (const ShardEnvelope& e : f.routing)
      n += e.kind == Kind::shared_deliver;
    return n;
  };
  CHECK(count() == 0);
  f.publish("sk", "y", 1);  // published here: the owner sends it to the member on shard 1
  f.to_clients();
  CHECK(count() == 1);
}

}  // namespace
}  // namespace shardmq::broker::test
