// ClientProtocol through the hooks the later features plug into: an authenticator that
// answers later, refusals, an authoriser on PUBLISH, SUBSCRIBE and each delivery, and
// acknowledgements held until storage is durable. Real MQTT bytes in, decoded packets out.
#include "protocol_fixture.hpp"

using namespace protocol_test;
using core::ProtocolVersion;
using core::ReasonCode;

namespace {

core::Publish publish(std::string_view topic, core::QoS qos, std::uint16_t id = 0) {
  core::Publish p;
  p.topic = topic;
  static const std::byte payload[] = {std::byte{'h'}, std::byte{'i'}};
  p.payload = payload;
  p.qos = qos;
  p.packet_id = id;
  return p;
}

core::Subscribe subscribe(std::string_view filter, core::QoS qos, std::uint16_t id = 1) {
  core::Subscribe s;
  s.packet_id = id;
  core::Subscription sub;
  sub.topic_filter = filter;
  sub.max_qos = qos;
  s.subscriptions.push_back(sub);
  return s;
}

}  // namespace

TEST_CASE(
    "a CONNECT waits for an authenticator that answers later, and nothing after it is "
    "handled before the verdict") {
  Shard1 shard;
  shard.authenticator->deferred = true;
  Connection& c = shard.open();
  core::Connect con;
  con.version = ProtocolVersion::v311;
  con.client_id = "late";
  con.username = "alice";
  shard.feed(c, con, ProtocolVersion::v311);
  shard.feed(c, core::PingReq{}, ProtocolVersion::v311);  // sent right behind the CONNECT
  shard.turn();
  CHECK(shard.sent(c).empty());
  CHECK(c.state == Connection::State::authenticating);
  CHECK(shard.loop.pauses == 1);  // the socket is not read meanwhile
  REQUIRE(shard.authenticator->usernames == std::vector<std::string>{"alice"});

  shard.authenticator->answer_all(AuthVerdict::accepted);
  CHECK(only<core::ConnAck>(shard.sent(c)).reason_code == ReasonCode::Success);
  shard.turn();  // the stashed PINGREQ is handled at the end of the turn
  only<core::PingResp>(shard.sent(c));
  CHECK(shard.loop.resumes == 1);
}

TEST_CASE("a refused CONNECT gets the reason of its protocol level and is closed") {
  struct Case {
    ProtocolVersion version;
    AuthVerdict verdict;
    ReasonCode expected;
  };
  const Case cases[] = {
      // Mosquitto answers 3.1.1 with 5 for a bad password too, not 4.
      {ProtocolVersion::v311, AuthVerdict::bad_credentials,
       static_cast<ReasonCode>(core::ConnectReturnCode::NotAuthorized)},
      {ProtocolVersion::v311, AuthVerdict::not_authorised,
       static_cast<ReasonCode>(core::ConnectReturnCode::NotAuthorized)},
      {ProtocolVersion::v5, AuthVerdict::bad_credentials, ReasonCode::BadUserNameOrPassword},
      {ProtocolVersion::v5, AuthVerdict::not_authorised, ReasonCode::NotAuthorized},
  };
  for (const Case& k : cases) {
    Shard1 shard;
    shard.authenticator->verdict = k.verdict;
    Connection& c = shard.connect("refused", k.version);
    CHECK(only<core::ConnAck>(shard.sent(c)).reason_code == k.expected);
    CHECK(c.state == Connection::State::closing);
    CHECK(shard.sessions.size() == 0);  // no session was made for it
  }
}

TEST_CASE(
    "a PUBLISH the authoriser denies is not routed: 5.0 hears 0x87, 3.1.1 is "
    "acknowledged as usual") {
  Shard1 shard;
  shard.authoriser->deny_publish = true;
  Connection& sub = shard.connect("sub", ProtocolVersion::v311);
  shard.sent(sub);
  shard.feed(sub, subscribe("#", core::QoS::AtLeastOnce), ProtocolVersion::v311);
  shard.turn();
  shard.sent(sub);

  Connection& v5 = shard.connect("pub5", ProtocolVersion::v5);
  Connection& v3 = shard.connect("pub3", ProtocolVersion::v311);
  shard.sent(v5);
  shard.sent(v3);
  shard.feed(v5, publish("secret/a", core::QoS::AtLeastOnce, 7), ProtocolVersion::v5);
  auto ack = only<core::PubAck>(shard.sent(v5));
  CHECK(ack.packet_id == 7);
  CHECK(ack.reason_code == ReasonCode::NotAuthorized);
  shard.feed(v5, publish("secret/a", core::QoS::ExactlyOnce, 8), ProtocolVersion::v5);
  auto rec = only<core::PubRec>(shard.sent(v5));
  CHECK(rec.reason_code == ReasonCode::NotAuthorized);
  shard.feed(v3, publish("secret/a", core::QoS::AtLeastOnce, 9), ProtocolVersion::v311);
  CHECK(only<core::PubAck>(shard.sent(v3)).packet_id == 9);
  CHECK(shard.sent(sub).empty());  // none of them reached the subscriber

  shard.feed(v3, publish("open/a", core::QoS::AtLeastOnce, 10), ProtocolVersion::v311);
  CHECK(only<core::Publish>(shard.sent(sub)).topic == "open/a");
}

TEST_CASE(
    "a filter the authoriser refuses gets SUBACK 0x80 (3.1.1) or 0x87 (5.0) and is not "
    "subscribed") {
  for (ProtocolVersion v : {ProtocolVersion::v311, ProtocolVersion::v5}) {
    Shard1 shard;
    shard.authoriser->deny_subscribe = true;
    Connection& c = shard.connect("s", v);
    shard.sent(c);
    shard.feed(c, subscribe("secret/#", core::QoS::AtLeastOnce), v);
    shard.turn();
    auto suback = only<core::SubAck>(shard.sent(c));
    REQUIRE(suback.reason_codes.size() == 1);
    CHECK(static_cast<unsigned>(suback.reason_codes[0]) ==
          (v == ProtocolVersion::v5 ? 0x87u : 0x80u));
    CHECK(shard.stats.shards[0].subscriptions.load() == 0);
  }
}

TEST_CASE("a wildcard subscriber receives only the topics it may read, retained ones too") {
  Shard1 shard;
  shard.authoriser->deny_receive = true;
  Connection& pub = shard.connect("pub", ProtocolVersion::v311);
  shard.sent(pub);
  auto retained = publish("secret/kept", core::QoS::AtMostOnce);
  retained.retain = true;
  shard.feed(pub, retained, ProtocolVersion::v311);
  Connection& sub = shard.connect("sub", ProtocolVersion::v311);
  shard.sent(sub);
  shard.feed(sub, subscribe("#", core::QoS::AtMostOnce), ProtocolVersion::v311);
  shard.turn();
  only<core::SubAck>(shard.sent(sub));  // and no retained message behind it

  shard.feed(pub, publish("secret/x", core::QoS::AtMostOnce), ProtocolVersion::v311);
  CHECK(shard.sent(sub).empty());
  shard.feed(pub, publish("public/x", core::QoS::AtMostOnce), ProtocolVersion::v311);
  CHECK(only<core::Publish>(shard.sent(sub)).topic == "public/x");
}

TEST_CASE(
    "a PUBACK waits until storage has made the writes before it durable, and acks "
    "keep their order") {
  auto* sink = new TestSink;
  Shard1 shard{std::unique_ptr<StorageSink>(sink)};
  sink->durable = ~std::uint64_t(0);  // set-up writes (sessions, subscription) are durable
  Connection& sub = shard.connect("sub", ProtocolVersion::v311);
  shard.feed(sub, subscribe("t", core::QoS::AtLeastOnce), ProtocolVersion::v311);
  shard.turn();
  shard.sent(sub);
  Connection& pub = shard.connect("pub", ProtocolVersion::v311);
  shard.sent(pub);

  sink->durable = sink->writes;  // from here on, nothing new is durable until we say so
  shard.feed(pub, publish("t", core::QoS::AtLeastOnce, 1), ProtocolVersion::v311);
  shard.feed(pub, publish("t", core::QoS::AtLeastOnce, 2), ProtocolVersion::v311);
  CHECK(sink->messages == 2);  // each in flight to the subscriber, told to storage
  shard.turn();
  CHECK(shard.sent(pub).empty());  // not durable: no PUBACK yet

  sink->durable = sink->writes - 1;  // the first publish's write, not the second's
  shard.turn();
  CHECK(only<core::PubAck>(shard.sent(pub)).packet_id == 1);
  sink->durable = sink->writes;
  shard.turn();
  CHECK(only<core::PubAck>(shard.sent(pub)).packet_id == 2);
}

TEST_CASE(
    "a persistent session's inbound QoS 2 id is stored before PUBREC, its release before "
    "PUBCOMP; a clean session's is not stored") {
  auto* sink = new TestSink;
  Shard1 shard{std::unique_ptr<StorageSink>(sink)};
  sink->durable = ~std::uint64_t(0);
  Connection& pub = shard.open();
  core::Connect con;
  con.version = ProtocolVersion::v311;
  con.client_id = "kept";
  con.clean_start = false;
  shard.feed(pub, con, ProtocolVersion::v311);
  shard.turn();
  shard.sent(pub);

  sink->durable = sink->writes;
  shard.feed(pub, publish("t", core::QoS::ExactlyOnce, 5), ProtocolVersion::v311);
  CHECK(sink->inbound == std::vector<std::uint16_t>{5});
  shard.turn();
  CHECK(shard.sent(pub).empty());  // the id is not durable yet
  sink->durable = sink->writes;
  shard.turn();
  CHECK(only<core::PubRec>(shard.sent(pub)).packet_id == 5);

  core::PubRel rel;
  rel.packet_id = 5;
  shard.feed(pub, rel, ProtocolVersion::v311);
  CHECK(sink->inbound.empty());
  shard.turn();
  CHECK(shard.sent(pub).empty());  // the release is not durable yet
  sink->durable = sink->writes;
  shard.turn();
  CHECK(only<core::PubComp>(shard.sent(pub)).packet_id == 5);

  Connection& clean = shard.connect("clean", ProtocolVersion::v311);
  shard.sent(clean);
  sink->durable = ~std::uint64_t(0);
  shard.feed(clean, publish("t", core::QoS::ExactlyOnce, 6), ProtocolVersion::v311);
  CHECK(sink->inbound.empty());
  CHECK(only<core::PubRec>(shard.sent(clean)).packet_id == 6);
}

TEST_CASE(
    "a topic over the configured length or levels is not routed: 5.0 hears 0x90, a "
    "filter 0x8F; 3.1.1 is acknowledged, its filter refused with 0x80") {
  Config cfg;
  cfg.max_topic_levels = 3;
  cfg.max_topic_length = 16;
  Shard1 shard{nullptr, cfg};
  Connection& sub = shard.connect("sub", ProtocolVersion::v311);
  shard.sent(sub);
  shard.feed(sub, subscribe("#", core::QoS::AtLeastOnce), ProtocolVersion::v311);
  shard.turn();
  shard.sent(sub);
  for (ProtocolVersion v : {ProtocolVersion::v5, ProtocolVersion::v311}) {
    Connection& pub = shard.connect(v == ProtocolVersion::v5 ? "p5" : "p3", v);
    shard.sent(pub);
    shard.feed(pub, publish("a/b/c/d", core::QoS::AtLeastOnce, 1), v);            // 4 levels
    shard.feed(pub, publish("a-very-long-topic", core::QoS::AtLeastOnce, 2), v);  // 17 bytes
    auto acks = shard.sent(pub);
    REQUIRE(acks.size() == 2);
    for (const auto& a : acks)
      CHECK(std::get<core::PubAck>(a).reason_code ==
            (v == ProtocolVersion::v5 ? ReasonCode::TopicNameInvalid : ReasonCode::Success));
    CHECK(shard.sent(sub).empty());                                   // neither was routed
    shard.feed(pub, publish("a/b/c", core::QoS::AtLeastOnce, 3), v);  // at the limits: fine
    CHECK(only<core::Publish>(shard.sent(sub)).topic == "a/b/c");
    CHECK(only<core::PubAck>(shard.sent(pub)).reason_code == ReasonCode::Success);

    shard.feed(pub, subscribe("x/+/y/#", core::QoS::AtMostOnce, 4), v);
    shard.turn();
    auto suback = only<core::SubAck>(shard.sent(pub));
    REQUIRE(suback.reason_codes.size() == 1);
    CHECK(static_cast<unsigned>(suback.reason_codes[0]) ==
          (v == ProtocolVersion::v5 ? 0x8Fu : 0x80u));
  }
}

TEST_CASE(
    "a session holds at most max_subscriptions filters: more get 0x97 (5.0) or 0x80, "
    "and one it holds already may be subscribed again") {
  Config cfg;
  cfg.max_subscriptions = 2;
  for (ProtocolVersion v : {ProtocolVersion::v5, ProtocolVersion::v311}) {
    Shard1 shard{nullptr, cfg};
    Connection& c = shard.connect("s", v);
    shard.sent(c);
    const char* filters[] = {"a", "b", "c", "a"};
    std::vector<unsigned> codes;
    for (std::uint16_t i = 0; i < 4; ++i) {
      shard.feed(c, subscribe(filters[i], core::QoS::AtLeastOnce, std::uint16_t(i + 1)), v);
      shard.turn();
      codes.push_back(static_cast<unsigned>(only<core::SubAck>(shard.sent(c)).reason_codes.at(0)));
    }
    const unsigned refused = v == ProtocolVersion::v5 ? 0x97u : 0x80u;
    CHECK(codes == std::vector<unsigned>{1, 1, refused, 1});
    CHECK(shard.stats.shards[0].subscriptions.load() == 2);
  }
}
