// limits.* through ClientProtocol without sockets: message_size_limit and retain_available
// on PUBLISH and on wills, the connect rate per source address, the publish rate and
// bandwidth (reads pause, nothing is lost), and limits changed while clients stay connected.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "protocol_fixture.hpp"

using namespace protocol_test;
using core::ProtocolVersion;
using core::ReasonCode;

namespace {

const std::vector<std::byte> kPayload(100, std::byte{'x'});

core::Publish publish(std::string_view topic, std::size_t bytes, core::QoS qos,
                      std::uint16_t id = 0, bool retain = false) {
  core::Publish p;
  p.topic = topic;
  p.payload = std::span<const std::byte>(kPayload).first(bytes);
  p.qos = qos;
  p.packet_id = id;
  p.retain = retain;
  return p;
}

core::Subscribe subscribe_all() {
  core::Subscribe s;
  s.packet_id = 1;
  core::Subscription sub;
  sub.topic_filter = "#";
  sub.max_qos = core::QoS::AtLeastOnce;
  s.subscriptions.push_back(sub);
  return s;
}

// A 3.1.1 client subscribed to everything, its SUBACK read.
Connection& subscriber(Shard1& shard) {
  Connection& sub = shard.connect("sub", ProtocolVersion::v311);
  shard.feed(sub, subscribe_all(), ProtocolVersion::v311);
  shard.turn();
  shard.sent(sub);
  return sub;
}

io::PeerAddress address(const char* ip) {
  io::PeerAddress a;
  auto* in = reinterpret_cast<sockaddr_in*>(&a.addr);
  in->sin_family = AF_INET;
  REQUIRE(inet_pton(AF_INET, ip, &in->sin_addr) == 1);
  a.len = sizeof(sockaddr_in);
  return a;
}

// Sends CONNECT from `ip` and returns the connection (the CONNACK is left to read).
Connection& connect_from(Shard1& shard, const char* ip, std::string_view id, ProtocolVersion v) {
  Connection* c = shard.connections.accept(0, shard.next_socket++, address(ip));
  REQUIRE(c);
  core::Connect con;
  con.version = v;
  con.client_id = id;
  shard.feed(*c, con, v);
  shard.turn();
  return *c;
}

// Several packets in one read, as a fast client's socket delivers them.
void feed_all(Shard1& shard, Connection& c, const std::vector<core::Packet>& ps,
              ProtocolVersion v) {
  std::vector<std::byte> buf;
  for (const auto& p : ps) {
    std::vector<std::byte> one(core::encoded_size(p, v));
    REQUIRE(core::encode(p, v, one).has_value());
    buf.insert(buf.end(), one.begin(), one.end());
  }
  shard.protocol.on_data(c, buf);
}

// 100 ms pass: the shard's tick, then the end of its turn.
void tick(Shard1& shard) {
  ++shard.ctx.tick;
  shard.protocol.on_tick();
  shard.turn();
}

template <typename Ack>
std::vector<unsigned> reason_codes(const std::vector<core::Packet>& ps) {
  std::vector<unsigned> out;
  for (const auto& p : ps) {
    REQUIRE(std::holds_alternative<Ack>(p));
    out.push_back(static_cast<unsigned>(std::get<Ack>(p).reason_code));
  }
  return out;
}

}  // namespace

TEST_CASE(
    "a PUBLISH over message_size_limit is not routed: 5.0 hears 0x97 on PUBACK and PUBREC "
    "(Mosquitto: 0x95, not allowed there), 3.1.1 is acknowledged as usual (as Mosquitto)") {
  Config cfg;
  cfg.message_size_limit = 10;
  Shard1 shard{nullptr, cfg};
  Connection& sub = subscriber(shard);
  for (ProtocolVersion v : {ProtocolVersion::v5, ProtocolVersion::v311}) {
    Connection& pub = shard.connect(v == ProtocolVersion::v5 ? "p5" : "p3", v);
    shard.sent(pub);
    shard.feed(pub, publish("t", 11, core::QoS::AtMostOnce), v);
    shard.feed(pub, publish("t", 11, core::QoS::AtLeastOnce, 1), v);
    CHECK(reason_codes<core::PubAck>(shard.sent(pub)) ==
          std::vector<unsigned>{v == ProtocolVersion::v5 ? 0x97u : 0u});
    shard.feed(pub, publish("t", 11, core::QoS::ExactlyOnce, 2), v);
    CHECK(reason_codes<core::PubRec>(shard.sent(pub)) ==
          std::vector<unsigned>{v == ProtocolVersion::v5 ? 0x97u : 0u});
    CHECK(shard.sent(sub).empty());  // none of the three was routed
    shard.feed(pub, publish("t", 10, core::QoS::AtLeastOnce, 3), v);  // at the limit: routed
    CHECK(only<core::Publish>(shard.sent(sub)).payload.size() == 10);
    CHECK(only<core::PubAck>(shard.sent(pub)).reason_code == ReasonCode::Success);
    CHECK(pub.state == Connection::State::connected);
  }
}

TEST_CASE(
    "a will over message_size_limit refuses the CONNECT: 5.0 CONNACK 0x95, 3.1.1 CONNACK 5, "
    "as Mosquitto 2.0 answers") {
  Config cfg;
  cfg.message_size_limit = 10;
  for (ProtocolVersion v : {ProtocolVersion::v5, ProtocolVersion::v311}) {
    Shard1 shard{nullptr, cfg};
    for (std::size_t size : {10u, 11u}) {
      Connection& c = shard.open();
      core::Connect con;
      con.version = v;
      con.client_id = size == 10 ? "fits" : "big";
      con.will = core::Will{};
      con.will->topic = "w";
      con.will->payload = std::span<const std::byte>(kPayload).first(size);
      shard.feed(c, con, v);
      shard.turn();
      const auto code = static_cast<unsigned>(only<core::ConnAck>(shard.sent(c)).reason_code);
      if (size == 10) {
        CHECK(code == 0);
        CHECK(c.state == Connection::State::connected);
      } else {
        CHECK(code == (v == ProtocolVersion::v5 ? 0x95u : 5u));
        CHECK(c.state == Connection::State::closing);
      }
    }
  }
}

TEST_CASE(
    "retain_available = false: 5.0 CONNACK says Retain Available 0; a retained PUBLISH "
    "ends the connection (5.0 with DISCONNECT 0x9A) and a retained will refuses the CONNECT") {
  Config cfg;
  cfg.retain_available = false;
  Shard1 shard{nullptr, cfg};
  Connection& sub = subscriber(shard);

  Connection& v5 = shard.connect("p5", ProtocolVersion::v5);
  CHECK(only<core::ConnAck>(shard.sent(v5)).properties.retain_available == std::uint8_t{0});
  shard.feed(v5, publish("t", 1, core::QoS::AtMostOnce), ProtocolVersion::v5);  // not retained
  CHECK(only<core::Publish>(shard.sent(sub)).topic == "t");
  shard.feed(v5, publish("t", 0, core::QoS::AtLeastOnce, 1, true), ProtocolVersion::v5);
  CHECK(only<core::Disconnect>(shard.sent(v5)).reason_code == ReasonCode::RetainNotSupported);
  CHECK(v5.state == Connection::State::closing);

  Connection& v3 = shard.connect("p3", ProtocolVersion::v311);
  shard.sent(v3);
  shard.feed(v3, publish("t", 1, core::QoS::AtMostOnce, 0, true), ProtocolVersion::v311);
  CHECK(shard.sent(v3).empty());  // 3.1.1 has no way to say it: closed, as Mosquitto does
  CHECK(v3.state == Connection::State::closing);
  CHECK(shard.sent(sub).empty());
  CHECK(shard.retained.size() == 0);

  for (ProtocolVersion v : {ProtocolVersion::v5, ProtocolVersion::v311}) {
    Connection& c = shard.open();
    core::Connect con;
    con.version = v;
    con.client_id = "w";
    con.will = core::Will{};
    con.will->topic = "w";
    con.will->retain = true;
    shard.feed(c, con, v);
    shard.turn();
    auto sent = shard.sent(c);
    if (v == ProtocolVersion::v5)
      CHECK(only<core::ConnAck>(sent).reason_code == ReasonCode::RetainNotSupported);
    else
      CHECK(sent.empty());  // as Mosquitto 2.0: closed without a CONNACK
    CHECK(c.state == Connection::State::closing);
  }
}

TEST_CASE("with retain_available (the default) the 5.0 CONNACK leaves Retain Available out") {
  Shard1 shard;
  Connection& c = shard.connect("c", ProtocolVersion::v5);
  CHECK(!only<core::ConnAck>(shard.sent(c)).properties.retain_available);
}

TEST_CASE(
    "max_connect_rate: an address past its burst is refused (5.0 0x9F, 3.1.1 3) until its "
    "bucket refills; other addresses are not affected") {
  Config cfg;
  cfg.max_connect_rate = 1;
  cfg.max_connect_burst = 2;
  Shard1 shard{nullptr, cfg};
  std::vector<unsigned> codes;
  for (int i = 0; i < 3; ++i) {
    Connection& c = connect_from(shard, "10.0.0.1", "a" + std::to_string(i), ProtocolVersion::v5);
    codes.push_back(static_cast<unsigned>(only<core::ConnAck>(shard.sent(c)).reason_code));
  }
  CHECK(codes == std::vector<unsigned>{0, 0, 0x9F});
  Connection& v3 = connect_from(shard, "10.0.0.1", "a3", ProtocolVersion::v311);
  CHECK(static_cast<unsigned>(only<core::ConnAck>(shard.sent(v3)).reason_code) == 3u);
  CHECK(v3.state == Connection::State::closing);
  CHECK(shard.stats.shards[0].connect_rate_refused.load() == 2);

  Connection& other = connect_from(shard, "10.0.0.2", "b", ProtocolVersion::v5);
  CHECK(only<core::ConnAck>(shard.sent(other)).reason_code == ReasonCode::Success);

  for (int i = 0; i < 10; ++i)  // one second: one more CONNECT
    tick(shard);
  Connection& again = connect_from(shard, "10.0.0.1", "a4", ProtocolVersion::v5);
  CHECK(only<core::ConnAck>(shard.sent(again)).reason_code == ReasonCode::Success);
  Connection& over = connect_from(shard, "10.0.0.1", "a5", ProtocolVersion::v5);
  CHECK(only<core::ConnAck>(shard.sent(over)).reason_code == ReasonCode::ConnectionRateExceeded);
}

TEST_CASE(
    "max_publish_rate: a publisher past its burst is paused, not refused, and every PUBLISH "
    "it sent is handled as its bucket refills") {
  Config cfg;
  cfg.max_publish_rate = 10;  // one per tick
  cfg.max_publish_burst = 2;
  Shard1 shard{nullptr, cfg};
  Connection& sub = subscriber(shard);
  Connection& pub = shard.connect("pub", ProtocolVersion::v5);
  shard.sent(pub);
  Connection& bystander = shard.connect("other", ProtocolVersion::v311);
  shard.sent(bystander);

  std::vector<core::Packet> burst;
  for (std::uint16_t i = 1; i <= 6; ++i)
    burst.push_back(publish("t", 1, core::QoS::AtLeastOnce, i));
  const int pauses = shard.loop.pauses;
  feed_all(shard, pub, burst, ProtocolVersion::v5);
  // The burst of 2, and the one that put the bucket in debt; the rest waits unread.
  CHECK(shard.sent(pub).size() == 3);
  CHECK(pub.throttled);
  CHECK(shard.loop.pauses == pauses + 1);
  CHECK(shard.stats.shards[0].publish_throttled.load() == 1);

  shard.feed(bystander, core::PingReq{}, ProtocolVersion::v311);  // others are served
  only<core::PingResp>(shard.sent(bystander));

  std::size_t acked = 3;
  for (int t = 0; t < 20 && acked < 6; ++t) {
    tick(shard);
    acked += shard.sent(pub).size();
  }
  CHECK(acked == 6);
  CHECK(shard.sent(sub).size() == 6);  // all delivered
  for (int t = 0; t < 5; ++t)
    tick(shard);
  CHECK(!pub.throttled);
  CHECK(shard.loop.resumes >= 1);
  CHECK(pub.state == Connection::State::connected);
}

TEST_CASE("max_publish_bandwidth: bytes count, and one message larger than the burst passes") {
  Config cfg;
  cfg.max_publish_bandwidth = 1000;  // 100 bytes a tick
  cfg.max_publish_bandwidth_burst = 50;
  Shard1 shard{nullptr, cfg};
  Connection& pub = shard.connect("pub", ProtocolVersion::v311);
  shard.sent(pub);
  feed_all(
      shard, pub,
      {publish("t", 100, core::QoS::AtLeastOnce, 1), publish("t", 100, core::QoS::AtLeastOnce, 2)},
      ProtocolVersion::v311);
  CHECK(shard.sent(pub).size() == 1);  // 107 bytes on the wire: 57 in debt
  CHECK(pub.throttled);
  tick(shard);  // debt paid: the second is handled, and puts it in debt again
  CHECK(shard.sent(pub).size() == 1);
  CHECK(pub.throttled);
  tick(shard);
  CHECK(!pub.throttled);
}

TEST_CASE(
    "limits changed while clients stay connected apply to their next PUBLISH, and a limit "
    "switched off again costs nothing") {
  Shard1 shard;
  Connection& pub = shard.connect("pub", ProtocolVersion::v5);
  shard.sent(pub);
  shard.feed(pub, publish("t", 20, core::QoS::AtLeastOnce, 1), ProtocolVersion::v5);
  CHECK(only<core::PubAck>(shard.sent(pub)).reason_code != ReasonCode::QuotaExceeded);

  shard.cfg.message_size_limit = 10;  // as Shard::apply_settings does on SIGHUP
  shard.protocol.settings_changed();
  shard.feed(pub, publish("t", 20, core::QoS::AtLeastOnce, 2), ProtocolVersion::v5);
  CHECK(only<core::PubAck>(shard.sent(pub)).reason_code == ReasonCode::QuotaExceeded);

  shard.cfg.message_size_limit = 0;
  shard.protocol.settings_changed();
  shard.feed(pub, publish("t", 20, core::QoS::AtLeastOnce, 3), ProtocolVersion::v5);
  CHECK(only<core::PubAck>(shard.sent(pub)).reason_code != ReasonCode::QuotaExceeded);
  CHECK(!pub.inbound);  // no limit: nothing was allocated for it
}
