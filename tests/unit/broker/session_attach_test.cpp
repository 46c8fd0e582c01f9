// SessionStore: attach, resume, clean start, takeover and expiry, seen from the connection's
// shard (the envelopes the store sends it).
#include <catch2/catch.hpp>

#include "shard_parts.hpp"

namespace shardmq::broker::test {
namespace {

using core::ReasonCode;

TEST_CASE("sessions: a new session is not present; a resumed one keeps its subscriptions",
          "[broker][sessions]") {
  ShardParts f;
  Attached a = f.connect(ShardParts::request("c1", 1, true, 60));
  REQUIRE(a.session);
  CHECK_FALSE(a.present);
  CHECK(a.after.empty());
  CHECK(f.store.size() == 1);
  CHECK(f.store.find("c1") == a.session);
  CHECK(f.subscribe(a.session, 1, "a/b", 1) == std::vector<ReasonCode>{ReasonCode::GrantedQoS1});
  CHECK(f.link.exact_interest().mask("a/b") == 1);  // shard 0's bit: the other shard routes here

  f.disconnect(a.session, 1);
  CHECK_FALSE(a.session->online);
  CHECK(f.store.size() == 1);  // kept: it has an expiry

  SECTION("clean_start false resumes it, subscriptions and all") {
    Attached b = f.connect(ShardParts::request("c1", 2, false, 60));
    CHECK(b.present);
    CHECK(b.session == a.session);
    CHECK(b.session->subscriptions.contains("a/b"));
    f.publish("a/b", "hello", 0);
    auto ds = ShardParts::deliveries(f.to_clients());
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].serial == 2);
    CHECK(ds[0].topic == "a/b");
    CHECK(ds[0].payload == "hello");
    CHECK(ds[0].qos == 0);
  }
  SECTION("clean_start true starts it afresh") {
    Attached b = f.connect(ShardParts::request("c1", 2, true, 60));
    CHECK_FALSE(b.present);
    REQUIRE(b.session);
    CHECK(b.session->subscriptions.empty());
    // The filter left the shard: its bit is cleared (and the entry gone with the last bit).
    CHECK(f.link.exact_interest().mask("a/b") == 0);
    CHECK(f.link.exact_interest().size() == 0);
    f.publish("a/b", "hello", 0);
    CHECK(f.to_clients().empty());
  }
}

TEST_CASE(
    "sessions: a SUBACK for a wildcard filter new to the shard waits for every shard's "
    "barrier",
    "[broker][sessions][subscribe]") {
  ShardParts f;
  Attached a = f.connect(ShardParts::request("c1", 1));
  auto subscribe = [&](std::string filter, std::uint16_t packet_id) {
    auto* req = new SubscribeRequest;
    req->session = a.session;
    req->connection = ConnectionRef{1, 1};
    req->packet_id = packet_id;
    req->items.push_back(SubscribeRequest::Item{std::move(filter), SubscriptionOptions{1}});
    f.store.subscribe(req);
  };
  subscribe("new/+", 1);
  CHECK(f.to_clients().empty());  // no SUBACK yet
  auto barriers = ShardParts::of_kind(f.routing, Kind::barrier);
  REQUIRE(barriers.size() == 1);
  CHECK(barriers[0].seq == f.link.last_barrier());
  auto interest = ShardParts::of_kind(f.routing, Kind::interest_add);
  REQUIRE(interest.size() == 1);
  CHECK(*static_cast<std::string*>(interest[0].ptr) == "new/+");
  REQUIRE(f.routing.size() == 2);  // the interest first, so it is applied when the barrier is
  CHECK(f.routing[0].kind == Kind::interest_add);
  CHECK(f.routing[1].kind == Kind::barrier);

  // A SUBSCRIBE with nothing new still keeps its SUBACK behind the waiting one.
  subscribe("new/+", 2);
  CHECK(f.to_clients().empty());

  f.link.barrier_answered(1, f.link.last_barrier());
  f.store.barriers_answered(f.link.barriers_done());
  auto acks = ShardParts::of_kind(f.to_clients(), Kind::packet);
  REQUIRE(acks.size() == 2);
  CHECK(std::get<core::SubAck>(*static_cast<core::Packet*>(acks[0].ptr)).packet_id == 1);
  CHECK(std::get<core::SubAck>(*static_cast<core::Packet*>(acks[1].ptr)).packet_id == 2);

  // Once nothing waits, a filter the shard has already is answered at once.
  subscribe("new/+", 3);
  CHECK(ShardParts::of_kind(f.to_clients(), Kind::packet).size() == 1);
}

TEST_CASE("sessions: a SUBACK for an exact filter new to the shard goes at once",
          "[broker][sessions][subscribe]") {
  ShardParts f;
  Attached a = f.connect(ShardParts::request("c1", 1));
  auto* req = new SubscribeRequest;
  req->session = a.session;
  req->connection = ConnectionRef{1, 1};
  req->packet_id = 7;
  req->items.push_back(SubscribeRequest::Item{"exact/topic", SubscriptionOptions{1}});
  const std::uint64_t version = f.link.exact_interest().version();
  f.store.subscribe(req);
  auto acks = ShardParts::of_kind(f.to_clients(), Kind::packet);
  // No interest or barrier on the ring: the shard's bit is in the table every shard reads,
  // and its version moved, so no shard keeps a route cached from before.
  CHECK(f.routing.empty());
  CHECK(f.link.exact_interest().mask("exact/topic") == 1);
  CHECK(f.link.exact_interest().version() > version);
  REQUIRE(acks.size() == 1);
  CHECK(std::get<core::SubAck>(*static_cast<core::Packet*>(acks[0].ptr)).packet_id == 7);
}

// An UNSUBSCRIBE used to run at once while a SUBSCRIBE still waited for its barrier: its
// UNSUBACK overtook the SUBACK and the retained messages of the filter it removed were
// streamed after it. It now waits behind the SUBSCRIBE.
TEST_CASE("sessions: an UNSUBSCRIBE after a waiting SUBSCRIBE is answered after it",
          "[broker][sessions][subscribe]") {
  ShardParts f;
  f.publish("r/x", "kept", 1, true);
  Attached a = f.connect(ShardParts::request("c1", 1));
  auto* sub = new SubscribeRequest;
  sub->session = a.session;
  sub->connection = ConnectionRef{1, 1};
  sub->packet_id = 1;
  sub->items.push_back(
      SubscribeRequest::Item{"r/#", SubscriptionOptions{1}});  // a wildcard: it waits
  f.store.subscribe(sub);
  f.store.unsubscribe(new UnsubscribeRequest{a.session, ConnectionRef{1, 1}, 2, {"r/#"}});
  f.link.barrier_answered(1, f.link.last_barrier());
  f.store.barriers_answered(f.link.barriers_done());
  f.store.on_turn_end();  // where a retained stream would go
  auto got = f.to_clients();
  auto acks = ShardParts::of_kind(got, Kind::packet);
  REQUIRE(acks.size() == 2);
  CHECK(std::holds_alternative<core::SubAck>(*static_cast<core::Packet*>(acks[0].ptr)));
  CHECK(std::holds_alternative<core::UnsubAck>(*static_cast<core::Packet*>(acks[1].ptr)));
  // The retained message may go between SUBACK and UNSUBACK (the SUBSCRIBE came first, as
  // Mosquitto answers too), never after the UNSUBACK.
  std::size_t unsuback = got.size(), last_delivery = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i].kind == Kind::packet &&
        std::holds_alternative<core::UnsubAck>(*static_cast<core::Packet*>(got[i].ptr)))
      unsuback = i;
    if (got[i].kind == Kind::deliver) last_delivery = i;
  }
  REQUIRE(unsuback < got.size());
  CHECK(last_delivery < unsuback);
}

TEST_CASE("sessions: with no expiry a session ends with its connection", "[broker][sessions]") {
  ShardParts f;
  Attached a = f.connect(ShardParts::request("c1", 1, false, 0));
  f.subscribe(a.session, 1, "x", 0);
  f.disconnect(a.session, 1);
  CHECK(f.store.size() == 0);
  CHECK(f.store.find("c1") == nullptr);
  Attached b = f.connect(ShardParts::request("c1", 2, false, 0));
  CHECK_FALSE(b.present);
  CHECK(b.session->subscriptions.empty());
}

TEST_CASE("sessions: a second CONNECT kicks the first and is answered once it let go",
          "[broker][sessions][takeover]") {
  ShardParts f;
  Attached a = f.connect(ShardParts::request("c1", 1, false, 60));
  f.subscribe(a.session, 1, "t", 1);

  f.attach(ShardParts::request("c1", 2, false, 60));
  auto got = f.to_clients();
  REQUIRE(got.size() == 1);
  CHECK(got[0].kind == Kind::kick);
  CHECK(got[0].target == 1);
  CHECK(a.session->online);  // still the first connection's

  // A stale notice (wrong serial) changes nothing.
  f.disconnect(a.session, 7);
  CHECK(f.to_clients().empty());

  f.disconnect(a.session, 1);
  got = f.to_clients();
  REQUIRE(got.size() == 1);
  REQUIRE(got[0].kind == Kind::attached);
  auto* reply = static_cast<AttachReply*>(got[0].ptr);
  CHECK(reply->connection == ConnectionRef{1, 2});
  CHECK(reply->session == a.session);
  CHECK(reply->session_present);
  CHECK(a.session->online);
  CHECK(a.session->connection == ConnectionRef{1, 2});
  CHECK(a.session->subscriptions.contains("t"));
  CHECK(f.store.size() == 1);
}

TEST_CASE("sessions: of three racing connections the older waiting one gets no session",
          "[broker][sessions][takeover]") {
  ShardParts f;
  Attached a = f.connect(ShardParts::request("c1", 1, false, 60));
  f.attach(ShardParts::request("c1", 2, false, 60));
  auto got = f.to_clients();
  REQUIRE(got.size() == 1);
  CHECK(got[0].kind == Kind::kick);
  CHECK(got[0].target == 1);

  f.attach(ShardParts::request("c1", 3, false, 60));
  got = f.to_clients();
  auto answers = ShardParts::of_kind(got, Kind::attached);
  REQUIRE(answers.size() == 1);
  auto* lost = static_cast<AttachReply*>(answers[0].ptr);
  CHECK(lost->connection == ConnectionRef{1, 2});
  CHECK(lost->session == nullptr);
  CHECK_FALSE(lost->session_present);
  for (const ShardEnvelope& k : ShardParts::of_kind(got, Kind::kick))
    CHECK(k.target == 1);  // only the holder is ever kicked

  f.disconnect(a.session, 1);
  got = f.to_clients();
  REQUIRE(got.size() == 1);
  REQUIRE(got[0].kind == Kind::attached);
  auto* won = static_cast<AttachReply*>(got[0].ptr);
  CHECK(won->connection == ConnectionRef{1, 3});
  CHECK(won->session == a.session);
  CHECK(won->session_present);
  CHECK(a.session->connection == ConnectionRef{1, 3});
}

TEST_CASE("sessions: a detached session expires after its interval, not before",
          "[broker][sessions][expiry]") {
  ShardParts f;
  Attached a = f.connect(ShardParts::request("c1", 1, false, 2));  // 2 s: 20 ticks
  f.subscribe(a.session, 1, "t", 1);
  f.disconnect(a.session, 1);

  f.tick(19);
  CHECK(f.store.size() == 1);
  CHECK(f.store.find("c1") == a.session);
  f.tick(1);
  CHECK(f.store.size() == 0);
  CHECK(f.store.find("c1") == nullptr);
  // Its subscription went with it.
  f.publish("t", "late", 1);
  CHECK(f.to_clients().empty());
}

TEST_CASE("sessions: coming back cancels the expiry; leaving again restarts it",
          "[broker][sessions][expiry]") {
  ShardParts f;
  Attached a = f.connect(ShardParts::request("c1", 1, false, 2));
  f.disconnect(a.session, 1);
  f.tick(10);
  Attached b = f.connect(ShardParts::request("c1", 2, false, 2));
  CHECK(b.present);
  f.tick(30);  // past the first deadline, online
  REQUIRE(f.store.find("c1") == a.session);
  f.disconnect(a.session, 2);  // at tick 40: expires at 60
  f.tick(19);
  CHECK(f.store.find("c1") == a.session);
  f.tick(1);
  CHECK(f.store.find("c1") == nullptr);
}

TEST_CASE("sessions: a 3.1.1 persistent session never expires", "[broker][sessions][expiry]") {
  ShardParts f;
  Attached a = f.connect(
      ShardParts::request("old", 1, false, 0xFFFFFFFFu, 65535, core::ProtocolVersion::v311));
  f.subscribe(a.session, 1, "t", 1);
  f.disconnect(a.session, 1);
  for (int i = 0; i < 10; ++i)
    f.tick(5000);                  // more than a turn of the wheel each time
  f.tick(std::uint64_t(1) << 40);  // past 0xFFFFFFFF seconds
  CHECK(f.store.size() == 1);
  REQUIRE(f.store.find("old") == a.session);
  Attached b = f.connect(
      ShardParts::request("old", 2, false, 0xFFFFFFFFu, 65535, core::ProtocolVersion::v311));
  CHECK(b.present);
  CHECK(b.session->subscriptions.contains("t"));
}

}  // namespace
}  // namespace shardmq::broker::test
