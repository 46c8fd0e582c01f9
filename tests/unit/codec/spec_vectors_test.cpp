// Byte-exact vectors from the MQTT specifications' examples.
#include "codec_test_support.hpp"

using namespace codec_test;

// MQTT 3.1.1 §3.1.2.10: "MQTT", level 4, flags 0xCE (user name, password, will QoS 1,
// will flag, clean session), keep alive 10.
TEST_CASE("spec vector: MQTT 3.1.1 CONNECT variable header", "[codec][spec]") {
  auto variable_header = bytes({0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xCE, 0x00, 0x0A});
  auto payload = bytes({0x00, 0x01, 'c',                     // client id
                        0x00, 0x01, 't', 0x00, 0x01, 'm',    // will topic, will message
                        0x00, 0x01, 'u', 0x00, 0x01, 'p'});  // user, password
  auto wire = frame(0x10, cat(variable_header, payload));

  Connect c;
  c.version = ProtocolVersion::v311;
  c.clean_start = true;
  c.keep_alive = 10;
  c.client_id = "c";
  c.will.emplace();
  c.will->qos = QoS::AtLeastOnce;
  c.will->topic = "t";
  c.will->payload = as_bytes("m");
  c.username = "u";
  c.password = as_bytes("p");
  CHECK(encode_vec(c, ProtocolVersion::v311) == wire);

  auto d = std::get<Connect>(decode_one(wire, opts(ProtocolVersion::v311)));
  CHECK(d.version == ProtocolVersion::v311);
  CHECK(d.keep_alive == 10);
  CHECK(d.clean_start);
  REQUIRE(d.will);
  CHECK(d.will->qos == QoS::AtLeastOnce);
  CHECK_FALSE(d.will->retain);
  CHECK(*d.username == "u");
  CHECK(sv(*d.password) == "p");
}

// MQTT 5.0 §3.1.2.11: as above at level 5, plus properties: length 5, Session Expiry
// Interval (0x11) = 10.
TEST_CASE("spec vector: MQTT 5.0 CONNECT variable header", "[codec][spec]") {
  auto variable_header = bytes(
      {0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0xCE, 0x00, 0x0A, 0x05, 0x11, 0x00, 0x00, 0x00, 0x0A});
  auto payload = bytes({0x00, 0x01, 'c', 0x00,             // client id, will props
                        0x00, 0x01, 't', 0x00, 0x01, 'm',  // will topic, payload
                        0x00, 0x01, 'u', 0x00, 0x01, 'p'});
  auto wire = frame(0x10, cat(variable_header, payload));

  Connect c;
  c.version = ProtocolVersion::v5;
  c.keep_alive = 10;
  c.properties.session_expiry_interval = 10;
  c.client_id = "c";
  c.will.emplace();
  c.will->qos = QoS::AtLeastOnce;
  c.will->topic = "t";
  c.will->payload = as_bytes("m");
  c.username = "u";
  c.password = as_bytes("p");
  CHECK(encode_vec(c, ProtocolVersion::v5) == wire);

  auto d = std::get<Connect>(decode_one(wire, opts(ProtocolVersion::v311)));
  CHECK(d.version == ProtocolVersion::v5);
  CHECK(d.properties.session_expiry_interval == 10u);
}

TEST_CASE("spec vector: MQTT 3.1 CONNECT uses MQIsdp", "[codec][spec]") {
  Connect c;
  c.version = ProtocolVersion::v31;
  c.keep_alive = 60;
  c.client_id = "id";
  auto wire = encode_vec(c, ProtocolVersion::v31);
  auto expect = frame(0x10, bytes({0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02, 0x00, 0x3C,
                                   0x00, 0x02, 'i', 'd'}));
  CHECK(wire == expect);
  CHECK(std::get<Connect>(decode_one(wire, opts(ProtocolVersion::v31))).version ==
        ProtocolVersion::v31);
}

TEST_CASE("spec vector: fixed packets", "[codec][spec]") {
  CHECK(encode_vec(PingReq{}, ProtocolVersion::v311) == bytes({0xC0, 0x00}));
  CHECK(encode_vec(PingResp{}, ProtocolVersion::v5) == bytes({0xD0, 0x00}));
  CHECK(encode_vec(Disconnect{}, ProtocolVersion::v311) == bytes({0xE0, 0x00}));
  CHECK(encode_vec(Disconnect{}, ProtocolVersion::v5) == bytes({0xE0, 0x00}));
  CHECK(encode_vec(PubAck{0x1234, ReasonCode::Success, {}}, ProtocolVersion::v311) ==
        bytes({0x40, 0x02, 0x12, 0x34}));
  CHECK(encode_vec(PubRel{7, ReasonCode::Success, {}}, ProtocolVersion::v311) ==
        bytes({0x62, 0x02, 0x00, 0x07}));
  CHECK(encode_vec(PubAck{1, ReasonCode::NoMatchingSubscribers, {}}, ProtocolVersion::v5) ==
        bytes({0x40, 0x03, 0x00, 0x01, 0x10}));
  CHECK(encode_vec(ConnAck{true, ReasonCode::Success, {}}, ProtocolVersion::v311) ==
        bytes({0x20, 0x02, 0x01, 0x00}));
  CHECK(encode_vec(ConnAck{false, ReasonCode::Success, {}}, ProtocolVersion::v5) ==
        bytes({0x20, 0x03, 0x00, 0x00, 0x00}));
  Publish p;
  p.topic = "a/b";
  p.qos = QoS::AtLeastOnce;
  p.retain = true;
  p.packet_id = 10;
  p.payload = as_bytes("hi");
  CHECK(encode_vec(p, ProtocolVersion::v311) ==
        bytes({0x33, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'h', 'i'}));
  CHECK(encode_vec(p, ProtocolVersion::v5) ==
        bytes({0x33, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 0x00, 'h', 'i'}));
}
