// Every packet type at every protocol level: encode, decode in the receiving direction,
// compare the fields, and re-encode to the same bytes.
#include <deque>

#include "codec_test_support.hpp"
#include "property_fixture.hpp"

using namespace codec_test;

namespace {

const ProtocolVersion kAllVersions[] = {ProtocolVersion::v31, ProtocolVersion::v311,
                                        ProtocolVersion::v5};

bool to_server(PacketType t) {
  switch (t) {
    case PacketType::ConnAck:
    case PacketType::SubAck:
    case PacketType::UnsubAck:
    case PacketType::PingResp:
      return false;
    default:
      return true;
  }
}

// Wire buffers outlive the test's use of the decoded packets that view them.
std::deque<ByteVec> g_wires;

// Encodes p, decodes it, checks the re-encoding matches; returns the decoded packet.
Packet round_trip(const Packet& p, ProtocolVersion v) {
  ByteVec& wire = g_wires.emplace_back(encode_vec(p, v));
  Packet d = decode_one(wire, opts(v, to_server(packet_type(p))));
  REQUIRE(d.index() == p.index());
  CHECK(encode_vec(d, v) == wire);
  return d;
}

Properties v5_props(ProtocolVersion v, PropertyContext ctx) {
  return v == ProtocolVersion::v5 ? all_properties(ctx) : Properties{};
}

}  // namespace

TEST_CASE("round trip: CONNECT", "[codec][roundtrip]") {
  for (ProtocolVersion v : kAllVersions) {
    for (int variant = 0; variant < 3; ++variant) {
      INFO("level " << int(v) << " variant " << variant);
      Connect c;
      c.version = v;
      c.clean_start = variant != 1;
      c.keep_alive = static_cast<std::uint16_t>(variant * 1000);
      c.client_id = variant == 2 ? "" : "client-\xC3\xA9";
      c.properties = v5_props(v, PropertyContext::Connect);
      if (variant != 0) {
        c.will.emplace();
        c.will->qos = static_cast<QoS>(variant);
        c.will->retain = variant == 2;
        c.will->topic = "last/will";
        c.will->payload = as_bytes(std::string_view("\x00gone", 5));
        c.will->properties = v5_props(v, PropertyContext::Will);
      }
      if (variant != 1) c.username = "user";
      if (variant == 2) c.password = as_bytes("pw");
      auto d = std::get<Connect>(round_trip(c, v));
      CHECK(d.version == v);
      CHECK(d.clean_start == c.clean_start);
      CHECK(d.keep_alive == c.keep_alive);
      CHECK(d.client_id == c.client_id);
      CHECK(d.username == c.username);
      CHECK(bin_sv(d.password) == bin_sv(c.password));
      REQUIRE(d.will.has_value() == c.will.has_value());
      if (d.will) {
        CHECK(d.will->qos == c.will->qos);
        CHECK(d.will->retain == c.will->retain);
        CHECK(d.will->topic == c.will->topic);
        CHECK(sv(d.will->payload) == sv(c.will->payload));
        require_same_properties(d.will->properties, c.will->properties);
      }
      require_same_properties(d.properties, c.properties);
    }
  }
}

TEST_CASE("round trip: CONNACK", "[codec][roundtrip]") {
  for (ProtocolVersion v : kAllVersions) {
    INFO("level " << int(v));
    ConnAck a;
    a.session_present = true;
    a.properties = v5_props(v, PropertyContext::ConnAck);
    auto d = std::get<ConnAck>(round_trip(a, v));
    CHECK(d.session_present);
    CHECK(d.reason_code == ReasonCode::Success);
    require_same_properties(d.properties, a.properties);

    ConnAck refused;
    refused.reason_code = v == ProtocolVersion::v5
                              ? ReasonCode::NotAuthorized
                              : static_cast<ReasonCode>(ConnectReturnCode::NotAuthorized);
    CHECK(std::get<ConnAck>(round_trip(refused, v)).reason_code == refused.reason_code);
  }
}

TEST_CASE("round trip: PUBLISH at each QoS", "[codec][roundtrip]") {
  for (ProtocolVersion v : kAllVersions) {
    for (int q = 0; q <= 2; ++q) {
      INFO("level " << int(v) << " qos " << q);
      Publish p;
      p.topic = "sensors/\xE2\x82\xAC/1";
      p.qos = static_cast<QoS>(q);
      p.retain = q == 1;
      p.dup = q == 2;
      p.packet_id = q == 0 ? 0 : static_cast<std::uint16_t>(0xFFFF - q);
      p.payload = as_bytes(std::string_view("payload\0bytes", 13));
      p.properties = v5_props(v, PropertyContext::Publish);
      // Decoded by a client (server-to-client direction allows Subscription Identifiers).
      ByteVec wire = encode_vec(p, v);
      auto d = std::get<Publish>(decode_one(wire, opts(v, false)));
      CHECK(encode_vec(d, v) == wire);
      CHECK(d.topic == p.topic);
      CHECK(d.qos == p.qos);
      CHECK(d.retain == p.retain);
      CHECK(d.dup == p.dup);
      CHECK(d.packet_id == p.packet_id);
      CHECK(sv(d.payload) == sv(p.payload));
      require_same_properties(d.properties, p.properties);
      // The payload is a view into the wire buffer, not a copy.
      CHECK(d.payload.data() == wire.data() + wire.size() - 13);
    }
  }
}

TEST_CASE("round trip: PUBLISH with empty payload and topic alias", "[codec][roundtrip]") {
  Publish p;
  p.topic = "";
  p.properties.topic_alias = 7;
  auto d = std::get<Publish>(round_trip(p, ProtocolVersion::v5));
  CHECK(d.topic.empty());
  CHECK(d.payload.empty());
  CHECK(d.properties.topic_alias == 7);
}

template <typename Ack>
void ack_round_trip(PropertyContext ctx, ReasonCode failure) {
  for (ProtocolVersion v : kAllVersions) {
    INFO("level " << int(v));
    Ack a{0x0102, ReasonCode::Success, {}};
    auto d = std::get<Ack>(round_trip(a, v));
    CHECK(d.packet_id == 0x0102);
    CHECK(d.reason_code == ReasonCode::Success);
    if (v != ProtocolVersion::v5) continue;
    Ack with_code{9, failure, {}};
    CHECK(std::get<Ack>(round_trip(with_code, v)).reason_code == failure);
    Ack full{10, failure, all_properties(ctx)};
    auto df = std::get<Ack>(round_trip(full, v));
    CHECK(df.reason_code == failure);
    require_same_properties(df.properties, full.properties);
  }
}

TEST_CASE("round trip: PUBACK PUBREC PUBREL PUBCOMP", "[codec][roundtrip]") {
  ack_round_trip<PubAck>(PropertyContext::PubAck, ReasonCode::QuotaExceeded);
  ack_round_trip<PubRec>(PropertyContext::PubRec, ReasonCode::NoMatchingSubscribers);
  ack_round_trip<PubRel>(PropertyContext::PubRel, ReasonCode::PacketIdentifierNotFound);
  ack_round_trip<PubComp>(PropertyContext::PubComp, ReasonCode::PacketIdentifierNotFound);
}

TEST_CASE("round trip: SUBSCRIBE and SUBACK", "[codec][roundtrip]") {
  for (ProtocolVersion v : kAllVersions) {
    INFO("level " << int(v));
    bool is_v5 = v == ProtocolVersion::v5;
    Subscribe s;
    s.packet_id = 42;
    s.properties = v5_props(v, PropertyContext::Subscribe);
    s.subscriptions.push_back(
        {"a/+/c", QoS::AtMostOnce, false, false, RetainHandling::SendOnSubscribe});
    s.subscriptions.push_back(
        {"a/#", QoS::AtLeastOnce, is_v5, is_v5,
         is_v5 ? RetainHandling::DoNotSend : RetainHandling::SendOnSubscribe});
    s.subscriptions.push_back(
        {"$share/g/x", QoS::ExactlyOnce, false, false,
         is_v5 ? RetainHandling::SendIfNewSubscription : RetainHandling::SendOnSubscribe});
    auto d = std::get<Subscribe>(round_trip(s, v));
    CHECK(d.packet_id == 42);
    REQUIRE(d.subscriptions.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(d.subscriptions[i].topic_filter == s.subscriptions[i].topic_filter);
      CHECK(d.subscriptions[i].max_qos == s.subscriptions[i].max_qos);
      CHECK(d.subscriptions[i].no_local == s.subscriptions[i].no_local);
      CHECK(d.subscriptions[i].retain_as_published == s.subscriptions[i].retain_as_published);
      CHECK(d.subscriptions[i].retain_handling == s.subscriptions[i].retain_handling);
    }
    require_same_properties(d.properties, s.properties);

    SubAck a;
    a.packet_id = 42;
    a.properties = v5_props(v, PropertyContext::SubAck);
    a.reason_codes = {ReasonCode::GrantedQoS0, ReasonCode::GrantedQoS2,
                      ReasonCode::UnspecifiedError};
    if (is_v5) a.reason_codes.push_back(ReasonCode::SharedSubscriptionsNotSupported);
    auto da = std::get<SubAck>(round_trip(a, v));
    CHECK(da.reason_codes == a.reason_codes);
    require_same_properties(da.properties, a.properties);
  }
}

TEST_CASE("round trip: UNSUBSCRIBE and UNSUBACK", "[codec][roundtrip]") {
  for (ProtocolVersion v : kAllVersions) {
    INFO("level " << int(v));
    Unsubscribe u;
    u.packet_id = 7;
    u.properties = v5_props(v, PropertyContext::Unsubscribe);
    u.topic_filters = {"a/b", "#", "$share/g/+"};
    auto d = std::get<Unsubscribe>(round_trip(u, v));
    CHECK(d.topic_filters == u.topic_filters);
    require_same_properties(d.properties, u.properties);

    UnsubAck a;
    a.packet_id = 7;
    a.properties = v5_props(v, PropertyContext::UnsubAck);
    if (v == ProtocolVersion::v5) {
      a.reason_codes = {ReasonCode::Success, ReasonCode::NoSubscriptionExisted};
    }
    auto da = std::get<UnsubAck>(round_trip(a, v));
    CHECK(da.packet_id == 7);
    CHECK(da.reason_codes == a.reason_codes);
  }
}

TEST_CASE("round trip: PINGREQ PINGRESP DISCONNECT", "[codec][roundtrip]") {
  for (ProtocolVersion v : kAllVersions) {
    INFO("level " << int(v));
    (void)std::get<PingReq>(round_trip(PingReq{}, v));
    (void)std::get<PingResp>(round_trip(PingResp{}, v));
    (void)std::get<Disconnect>(round_trip(Disconnect{}, v));
  }
  Disconnect d{ReasonCode::DisconnectWithWillMessage, {}};
  CHECK(std::get<Disconnect>(round_trip(d, ProtocolVersion::v5)).reason_code ==
        ReasonCode::DisconnectWithWillMessage);
  Disconnect full{ReasonCode::ServerMoved, all_properties(PropertyContext::Disconnect)};
  // Session Expiry Interval is client-to-server only; round_trip decodes as server.
  auto df = std::get<Disconnect>(round_trip(full, ProtocolVersion::v5));
  CHECK(df.reason_code == ReasonCode::ServerMoved);
  require_same_properties(df.properties, full.properties);
}

TEST_CASE("round trip: AUTH (MQTT 5 only)", "[codec][roundtrip]") {
  (void)std::get<Auth>(round_trip(Auth{}, ProtocolVersion::v5));
  Auth a{ReasonCode::ContinueAuthentication, all_properties(PropertyContext::Auth)};
  auto d = std::get<Auth>(round_trip(a, ProtocolVersion::v5));
  CHECK(d.reason_code == ReasonCode::ContinueAuthentication);
  require_same_properties(d.properties, a.properties);
  ByteVec buf(16);
  auto r = encode(Auth{}, ProtocolVersion::v311, buf);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == EncodeError::NotInVersion);
}

TEST_CASE("encode: buffer too small and field too long", "[codec][encode]") {
  Publish p;
  p.topic = "a";
  p.payload = as_bytes("xyz");
  ByteVec small(encoded_size(p, ProtocolVersion::v311) - 1);
  auto r = encode(p, ProtocolVersion::v311, small);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == EncodeError::BufferTooSmall);

  std::string long_topic(70000, 'a');
  p.topic = long_topic;
  ByteVec big(encoded_size(p, ProtocolVersion::v311));
  r = encode(p, ProtocolVersion::v311, big);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == EncodeError::FieldTooLong);
}
