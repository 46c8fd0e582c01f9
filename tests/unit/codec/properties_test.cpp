// Property blocks: allowed-per-packet table, verbatim forwarding of user properties, the
// iteration API.
#include "codec_test_support.hpp"
#include "property_fixture.hpp"

using namespace codec_test;

TEST_CASE("property table: a few spot checks of MQTT 5 §2.2.2.2", "[codec][properties]") {
  CHECK(property_allowed(PropertyContext::Publish, PropertyId::TopicAlias));
  CHECK_FALSE(property_allowed(PropertyContext::Will, PropertyId::TopicAlias));
  CHECK(property_allowed(PropertyContext::Will, PropertyId::WillDelayInterval));
  CHECK_FALSE(property_allowed(PropertyContext::Connect, PropertyId::WillDelayInterval));
  CHECK(property_allowed(PropertyContext::Subscribe, PropertyId::SubscriptionIdentifier));
  CHECK_FALSE(property_allowed(PropertyContext::Unsubscribe, PropertyId::ReasonString));
  CHECK(property_allowed(PropertyContext::UnsubAck, PropertyId::ReasonString));
  CHECK_FALSE(property_allowed(PropertyContext::PingReq, PropertyId::UserProperty));
  CHECK(property_allowed(PropertyContext::Auth, PropertyId::AuthenticationData));
  CHECK(property_name(PropertyId::MaximumQoS) == "Maximum QoS");
}

TEST_CASE("decoded user properties re-encode verbatim, with additions after them",
          "[codec][properties]") {
  Publish p;
  p.topic = "t";
  p.payload = as_bytes("x");
  p.properties.user_properties = kUserProps;
  p.properties.message_expiry_interval = 60;
  ByteVec wire = encode_vec(p, ProtocolVersion::v5);

  auto d = std::get<Publish>(decode_one(wire, opts(ProtocolVersion::v5)));
  CHECK(d.properties.user_property_count() == 3);
  CHECK(d.properties.raw_user_property_count == 3);
  // Forward: the broker changes scalars and adds one of its own.
  d.properties.message_expiry_interval = 30;
  const StringPair added[] = {{"via", "shardmq"}};
  d.properties.user_properties = added;
  ByteVec forwarded = encode_vec(d, ProtocolVersion::v5);
  auto f = std::get<Publish>(decode_one(forwarded, opts(ProtocolVersion::v5)));
  CHECK(f.properties.message_expiry_interval == 30u);
  auto props = user_props_of(f.properties);
  REQUIRE(props.size() == 4);
  CHECK(props[0] == std::pair<std::string_view, std::string_view>{"k1", "v1"});
  CHECK(props[2] == std::pair<std::string_view, std::string_view>{"k1", "again"});
  CHECK(props[3] == std::pair<std::string_view, std::string_view>{"via", "shardmq"});
}

TEST_CASE("clear_raw drops copied repeating properties", "[codec][properties]") {
  Publish p;
  p.topic = "t";
  p.properties.subscription_identifiers = kSubIds;
  p.properties.user_properties = kUserProps;
  ByteVec wire = encode_vec(p, ProtocolVersion::v5);
  auto d = std::get<Publish>(decode_one(wire, opts(ProtocolVersion::v5, false)));
  CHECK(sub_ids_of(d.properties) == std::vector<std::uint32_t>{1, 268435455});
  d.properties.clear_raw();
  CHECK(d.properties.user_property_count() == 0);
  CHECK(sub_ids_of(d.properties).empty());
  auto e = std::get<Publish>(
      decode_one(encode_vec(d, ProtocolVersion::v5), opts(ProtocolVersion::v5, false)));
  CHECK(user_props_of(e.properties).empty());
}

TEST_CASE("properties are ignored below MQTT 5", "[codec][properties]") {
  Publish p;
  p.topic = "t";
  p.properties.message_expiry_interval = 1;
  p.properties.user_properties = kUserProps;
  Publish plain;
  plain.topic = "t";
  CHECK(encode_vec(p, ProtocolVersion::v311) == encode_vec(plain, ProtocolVersion::v311));
}
