// MQTT 5 flow control at the connection: Topic Aliases both ways, the broker's Receive
// Maximum, the client's Maximum Packet Size, what CONNACK advertises, Reason Strings and the
// reason codes of the server's DISCONNECTs. Real MQTT bytes in, decoded packets out.
#include "protocol_fixture.hpp"

using namespace protocol_test;
using core::ProtocolVersion;
using core::ReasonCode;

namespace {

constexpr auto v5 = ProtocolVersion::v5;

const std::byte kPayload[] = {std::byte{'h'}, std::byte{'i'}};

core::Publish publish(std::string_view topic, core::QoS qos = core::QoS::AtMostOnce,
                      std::uint16_t id = 0, std::optional<std::uint16_t> alias = std::nullopt) {
  core::Publish p;
  p.topic = topic;
  p.payload = kPayload;
  p.qos = qos;
  p.packet_id = id;
  p.properties.topic_alias = alias;
  return p;
}

core::Subscribe subscribe(std::string_view filter, core::QoS qos) {
  core::Subscribe s;
  s.packet_id = 1;
  core::Subscription sub;
  sub.topic_filter = filter;
  sub.max_qos = qos;
  s.subscriptions.push_back(sub);
  return s;
}

// An MQTT 5 client connected with these CONNECT properties; returns its CONNACK too.
Connection& connect5(Shard1& shard, std::string_view id, const core::Properties& props = {},
                     core::ConnAck* ack = nullptr, std::uint16_t keepalive = 60) {
  Connection& c = shard.open();
  core::Connect con;
  con.version = v5;
  con.client_id = id;
  con.keep_alive = keepalive;
  con.properties = props;
  shard.feed(c, con, v5);
  shard.turn();
  auto got = only<core::ConnAck>(shard.sent(c));
  REQUIRE(got.reason_code == ReasonCode::Success);
  if (ack) *ack = got;
  return c;
}

Connection& subscriber(Shard1& shard, std::string_view id, std::string_view filter,
                       const core::Properties& props = {}, core::QoS qos = core::QoS::AtMostOnce) {
  Connection& c = connect5(shard, id, props);
  shard.feed(c, subscribe(filter, qos), v5);
  shard.turn();
  only<core::SubAck>(shard.sent(c));
  return c;
}

std::vector<core::Publish> publishes(Shard1& shard, Connection& c) {
  std::vector<core::Publish> out;
  for (auto& p : shard.sent(c)) {
    REQUIRE(std::holds_alternative<core::Publish>(p));
    out.push_back(std::get<core::Publish>(p));
  }
  return out;
}

ReasonCode disconnect_reason(Shard1& shard, Connection& c) {
  auto sent = shard.sent(c);
  auto& d = only<core::Disconnect>(sent);
  CHECK(c.state == Connection::State::closing);
  return d.reason_code;
}

}  // namespace

TEST_CASE("CONNACK advertises the Topic Alias Maximum, and Response Information when asked") {
  Config cfg;
  cfg.response_information = "responses/";
  Shard1 shard{nullptr, cfg};
  core::ConnAck plain;
  connect5(shard, "plain", {}, &plain);
  CHECK(plain.properties.topic_alias_maximum == std::optional<std::uint16_t>(10));
  CHECK(!plain.properties.response_information);
  // Supported, so absent (the specification's default is "available").
  CHECK(!plain.properties.wildcard_subscription_available);
  CHECK(!plain.properties.subscription_identifier_available);

  core::Properties ask;
  ask.request_response_information = 1;
  core::ConnAck asked;
  connect5(shard, "asker", ask, &asked);
  CHECK(asked.properties.response_information ==
        std::optional<std::string_view>("responses/asker"));

  Config off;
  off.max_topic_aliases = 0;
  Shard1 quiet{nullptr, off};
  core::ConnAck none;
  connect5(quiet, "asker", ask, &none);
  CHECK(!none.properties.topic_alias_maximum);
  CHECK(!none.properties.response_information);  // no prefix configured
}

TEST_CASE("a keepalive above limits.max_keepalive comes back lowered as Server Keep Alive") {
  Config cfg;
  cfg.max_keepalive = 30;
  Shard1 shard{nullptr, cfg};
  core::ConnAck lowered;
  Connection& c = connect5(shard, "long", {}, &lowered, 600);
  CHECK(lowered.properties.server_keep_alive == std::optional<std::uint16_t>(30));
  CHECK(c.keepalive_s == 30);
  core::ConnAck kept;
  connect5(shard, "short", {}, &kept, 20);
  CHECK(!kept.properties.server_keep_alive);  // what it asked for stands
}

TEST_CASE("a client's topic alias is set with a topic and used with an empty one") {
  Shard1 shard;
  Connection& sub = subscriber(shard, "sub", "a/#");
  Connection& pub = connect5(shard, "pub");
  shard.feed(pub, publish("a/b", core::QoS::AtMostOnce, 0, 3), v5);
  shard.feed(pub, publish("", core::QoS::AtMostOnce, 0, 3), v5);
  shard.feed(pub, publish("a/c", core::QoS::AtMostOnce, 0, 3), v5);  // re-pointed
  shard.feed(pub, publish("", core::QoS::AtLeastOnce, 7, 3), v5);
  shard.turn();
  CHECK(only<core::PubAck>(shard.sent(pub)).packet_id == 7);
  auto got = publishes(shard, sub);
  REQUIRE(got.size() == 4);
  CHECK(got[0].topic == "a/b");
  CHECK(got[1].topic == "a/b");
  CHECK(got[2].topic == "a/c");
  CHECK(got[3].topic == "a/c");
  for (auto& p : got)
    CHECK(!p.properties.topic_alias);  // the publisher's alias is its own business
}

TEST_CASE("the publisher's other properties pass through an aliased PUBLISH unchanged") {
  Shard1 shard;
  Connection& sub = subscriber(shard, "sub", "t");
  Connection& pub = connect5(shard, "pub");
  core::Publish p = publish("t", core::QoS::AtMostOnce, 0, 1);
  const core::StringPair user[] = {{"k1", "v1"}, {"k2", "v2"}};
  p.properties.user_properties = user;
  p.properties.content_type = "text/plain";
  p.properties.payload_format_indicator = 1;
  shard.feed(pub, p, v5);
  shard.turn();
  auto got = publishes(shard, sub);
  REQUIRE(got.size() == 1);
  CHECK(!got[0].properties.topic_alias);
  CHECK(got[0].properties.content_type == std::optional<std::string_view>("text/plain"));
  CHECK(got[0].properties.payload_format_indicator == std::optional<std::uint8_t>(1));
  std::vector<std::string> seen;
  got[0].properties.for_each_user_property([&](const core::StringPair& u) {
    seen.push_back(std::string(u.name) + "=" + std::string(u.value));
  });
  CHECK(seen == std::vector<std::string>{"k1=v1", "k2=v2"});
}

TEST_CASE("an invalid client topic alias closes the connection with its reason code") {
  SECTION("over the maximum: 0x94") {
    Shard1 shard;
    Connection& pub = connect5(shard, "pub");
    shard.feed(pub, publish("t", core::QoS::AtMostOnce, 0, 11), v5);
    CHECK(disconnect_reason(shard, pub) == ReasonCode::TopicAliasInvalid);
  }
  SECTION("aliases off: any alias is over the maximum of 0") {
    Config cfg;
    cfg.max_topic_aliases = 0;
    Shard1 shard{nullptr, cfg};
    Connection& pub = connect5(shard, "pub");
    shard.feed(pub, publish("t", core::QoS::AtMostOnce, 0, 1), v5);
    CHECK(disconnect_reason(shard, pub) == ReasonCode::TopicAliasInvalid);
  }
  SECTION("alias 0: 0x94") {
    Shard1 shard;
    Connection& pub = connect5(shard, "pub");
    // The encoder writes what it is given; the broker's decoder refuses it.
    shard.feed(pub, publish("t", core::QoS::AtMostOnce, 0, 0), v5);
    CHECK(disconnect_reason(shard, pub) == ReasonCode::TopicAliasInvalid);
  }
  SECTION("used before it was set: 0x82") {
    Shard1 shard;
    Connection& pub = connect5(shard, "pub");
    shard.feed(pub, publish("", core::QoS::AtMostOnce, 0, 2), v5);
    CHECK(disconnect_reason(shard, pub) == ReasonCode::ProtocolError);
  }
}

TEST_CASE("the broker assigns aliases to the topics it sends, least recently used reassigned") {
  Shard1 shard;
  core::Properties allow;
  allow.topic_alias_maximum = 2;
  Connection& sub = subscriber(shard, "sub", "#", allow);
  CHECK(sub.alias_out_max == 2);
  Connection& pub = connect5(shard, "pub");
  for (std::string_view t : {"a", "a", "b", "a", "c", "c", "b"})
    shard.feed(pub, publish(t), v5);
  shard.turn();
  auto got = publishes(shard, sub);
  REQUIRE(got.size() == 7);
  struct Want {
    std::string_view topic;
    std::uint16_t alias;
  };
  // a→1, b→2; c takes b's alias (b used least recently), then b takes a's.
  const Want want[] = {{"a", 1}, {"", 1}, {"b", 2}, {"", 1}, {"c", 2}, {"", 2}, {"b", 1}};
  for (std::size_t i = 0; i < 7; ++i) {
    INFO(i);
    CHECK(got[i].topic == want[i].topic);
    CHECK(got[i].properties.topic_alias == std::optional<std::uint16_t>(want[i].alias));
  }
}

TEST_CASE("no aliases for a client that does not allow them, nor for MQTT 3.1.1") {
  Shard1 shard;
  Connection& v5sub = subscriber(shard, "v5", "t");
  Connection& old = shard.connect("old", ProtocolVersion::v311);
  shard.sent(old);
  shard.feed(old, subscribe("t", core::QoS::AtMostOnce), ProtocolVersion::v311);
  shard.turn();
  shard.sent(old);
  Connection& pub = connect5(shard, "pub");
  shard.feed(pub, publish("t"), v5);
  shard.feed(pub, publish("t"), v5);
  shard.turn();
  for (Connection* c : {&v5sub, &old}) {
    auto got = publishes(shard, *c);
    REQUIRE(got.size() == 2);
    for (auto& p : got) {
      CHECK(p.topic == "t");
      CHECK(!p.properties.topic_alias);
    }
    CHECK(!c->aliases);  // nothing allocated for it
  }
}

TEST_CASE("more unacknowledged QoS 2 PUBLISHes than the Receive Maximum: DISCONNECT 0x93") {
  Config cfg;
  cfg.max_inflight = 2;
  Shard1 shard{nullptr, cfg};
  Connection& pub = connect5(shard, "pub");
  shard.feed(pub, publish("t", core::QoS::ExactlyOnce, 1), v5);
  shard.feed(pub, publish("t", core::QoS::ExactlyOnce, 2), v5);
  shard.feed(pub, publish("t", core::QoS::ExactlyOnce, 2), v5);  // a resend counts once
  core::PubRel rel;
  rel.packet_id = 1;
  shard.feed(pub, rel, v5);  // one done: room again
  shard.feed(pub, publish("t", core::QoS::ExactlyOnce, 3), v5);
  shard.turn();
  CHECK(shard.sent(pub).size() == 5);  // PUBREC 1, 2, 2, PUBCOMP 1, PUBREC 3
  CHECK(pub.state == Connection::State::connected);
  shard.feed(pub, publish("t", core::QoS::AtLeastOnce, 4), v5);  // 2 and 3 await PUBREL
  CHECK(disconnect_reason(shard, pub) == ReasonCode::ReceiveMaximumExceeded);
}

TEST_CASE("held PUBACKs count towards the Receive Maximum") {
  Config cfg;
  cfg.max_inflight = 1;
  auto* sink = new TestSink;
  Shard1 shard{std::unique_ptr<StorageSink>(sink), cfg};
  Connection& sub = subscriber(shard, "sub", "t", {}, core::QoS::AtLeastOnce);
  Connection& pub = connect5(shard, "pub");
  shard.feed(pub, publish("t", core::QoS::AtLeastOnce, 1), v5);  // held: not yet durable
  shard.turn();
  CHECK(shard.sent(pub).empty());
  shard.feed(pub, publish("t", core::QoS::AtLeastOnce, 2), v5);
  CHECK(disconnect_reason(shard, pub) == ReasonCode::ReceiveMaximumExceeded);
  (void)sub;
}

TEST_CASE("a message over a client's Maximum Packet Size is skipped for it alone, and counted") {
  Config cfg;
  cfg.max_inflight = 1;
  Shard1 shard{nullptr, cfg};
  core::Properties small;
  small.maximum_packet_size = 40;
  Connection& tight = subscriber(shard, "tight", "t", small, core::QoS::AtLeastOnce);
  Connection& roomy = subscriber(shard, "roomy", "t", {}, core::QoS::AtLeastOnce);
  Connection& pub = connect5(shard, "pub");
  const std::vector<std::byte> big(100, std::byte{'x'});
  core::Publish large = publish("t", core::QoS::AtLeastOnce, 1);
  large.payload = big;
  shard.feed(pub, large, v5);
  shard.feed(pub, publish("t", core::QoS::AtLeastOnce, 2), v5);
  shard.turn();
  shard.turn();  // the window of one freed by the skipped message lets the second go
  auto got = publishes(shard, tight);
  REQUIRE(got.size() == 1);  // only the small one: nothing truncated
  CHECK(got[0].payload.size() == 2);
  auto all = publishes(shard, roomy);
  REQUIRE(all.size() == 1);  // its window of one holds the large one, unacknowledged
  CHECK(all[0].payload.size() == 100);
  CHECK(shard.stats.sum(&ShardCounters::messages_too_large) == 1);
}

TEST_CASE("Reason Strings go only to clients that did not turn Problem Information off") {
  for (bool quiet : {false, true}) {
    Shard1 shard;
    shard.authoriser->deny_publish = true;
    core::Properties props;
    if (quiet) props.request_problem_information = 0;
    Connection& pub = connect5(shard, "pub", props);
    shard.feed(pub, publish("secret/x", core::QoS::AtLeastOnce, 1), v5);
    auto acks = shard.sent(pub);
    auto& ack = only<core::PubAck>(acks);
    CHECK(ack.reason_code == ReasonCode::NotAuthorized);
    CHECK(ack.properties.reason_string.has_value() == !quiet);
    // DISCONNECT may carry one either way (MQTT 5 §3.1.2.11.7).
    shard.feed(pub, core::Connect{}, v5);
    auto bye = shard.sent(pub);
    auto& d = only<core::Disconnect>(bye);
    CHECK(d.reason_code == ReasonCode::ProtocolError);
    CHECK(d.properties.reason_string == std::optional<std::string_view>("second CONNECT"));
  }
}

TEST_CASE("server DISCONNECTs: keepalive timeout 0x8D, session taken over 0x8E, shutdown 0x8B") {
  SECTION("keepalive") {
    Shard1 shard;
    Connection& c = connect5(shard, "quiet", {}, nullptr, 1);
    shard.ctx.tick += ShardContext::ms_to_ticks(1600);
    shard.connections.on_tick();
    CHECK(disconnect_reason(shard, c) == ReasonCode::KeepAliveTimeout);
  }
  SECTION("takeover") {
    Shard1 shard;
    Connection& first = connect5(shard, "same");
    connect5(shard, "same");
    CHECK(disconnect_reason(shard, first) == ReasonCode::SessionTakenOver);
  }
  SECTION("shutdown") {
    Shard1 shard;
    Connection& c = connect5(shard, "c");
    shard.protocol.begin_shutdown();
    CHECK(disconnect_reason(shard, c) == ReasonCode::ServerShuttingDown);
  }
  SECTION("a packet over limits.max_packet_size: 0x95") {
    Config cfg;
    cfg.max_packet_size = 64;
    Shard1 shard{nullptr, cfg};
    Connection& c = connect5(shard, "c");
    const std::vector<std::byte> big(100, std::byte{'x'});
    core::Publish p = publish("t");
    p.payload = big;
    shard.feed(c, p, v5);
    CHECK(disconnect_reason(shard, c) == ReasonCode::PacketTooLarge);
  }
}
