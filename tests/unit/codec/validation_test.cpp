// One test per validation rule: each malformed input gives its own DecodeError.
#include <random>
#include <string>

#include "codec_test_support.hpp"
#include "core/topic_validation.hpp"
#include "core/utf8.hpp"

using namespace codec_test;

namespace {

const auto v311 = ProtocolVersion::v311;
const auto v5 = ProtocolVersion::v5;

DecodeError err(const ByteVec& b, ProtocolVersion v = v311, bool is_server = true) {
  return decode_error_of(b, opts(v, is_server));
}

// CONNECT body: protocol name, level, flags, keep alive 60, then `rest`.
ByteVec connect_frame(std::string_view name, int level, int flags, const ByteVec& rest) {
  ByteVec body = bytes({0x00, static_cast<int>(name.size())});
  body = cat(body, str_bytes(name));
  body = cat(body, bytes({level, flags, 0x00, 0x3C}));
  return frame(0x10, cat(body, rest));
}
const ByteVec kClientId = bytes({0x00, 0x01, 'c'});

// A v5 PUBLISH QoS 0 to topic "t" with the given property block (length included).
ByteVec publish_v5(const ByteVec& props) {
  return frame(0x30, cat(bytes({0x00, 0x01, 't'}), props));
}

}  // namespace

TEST_CASE("rule: remaining length over 4 bytes", "[codec][validation]") {
  CHECK(err(bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01})) == DecodeError::RemainingLengthTooLong);
  CHECK(err(bytes({0x30, 0x80, 0x00})) == DecodeError::MalformedVarint);  // non-minimal
}

TEST_CASE("rule: packet over the configured maximum size", "[codec][validation]") {
  DecodeOptions o = opts(v311);
  o.max_packet_size = 10;
  // Refused as soon as the fixed header is known, before the body arrives.
  CHECK(decode_error_of(bytes({0x30, 0x09}), o) == DecodeError::PacketTooLarge);
  auto ok = frame(0x30, bytes({0x00, 0x01, 't', 'a', 'b', 'c'}));  // 8 bytes
  CHECK(decode_error_of(ok, o) == DecodeError::Ok);
}

TEST_CASE("rule: reserved packet types", "[codec][validation]") {
  CHECK(err(bytes({0x00, 0x00})) == DecodeError::ReservedPacketType);
  CHECK(err(bytes({0xF0, 0x00}), v311) == DecodeError::ReservedPacketType);  // AUTH before 5
  CHECK(err(bytes({0xF0, 0x00}), v5) == DecodeError::Ok);
}

TEST_CASE("rule: packet type not allowed in this direction", "[codec][validation]") {
  CHECK(err(bytes({0x20, 0x02, 0x00, 0x00}), v311, true) == DecodeError::PacketTypeNotAllowed);
  CHECK(err(bytes({0xD0, 0x00}), v311, true) == DecodeError::PacketTypeNotAllowed);
  CHECK(err(bytes({0xC0, 0x00}), v311, false) == DecodeError::PacketTypeNotAllowed);
  CHECK(err(bytes({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00}), v311, false) ==
        DecodeError::PacketTypeNotAllowed);
  CHECK(err(connect_frame("MQTT", 4, 0x02, kClientId), v311, false) ==
        DecodeError::PacketTypeNotAllowed);
}

TEST_CASE("rule: reserved fixed header flags", "[codec][validation]") {
  CHECK(err(bytes({0x41, 0x02, 0x00, 0x01})) == DecodeError::InvalidFixedHeaderFlags);
  CHECK(err(bytes({0x60, 0x02, 0x00, 0x01})) == DecodeError::InvalidFixedHeaderFlags);  // PUBREL
  CHECK(err(bytes({0x62, 0x02, 0x00, 0x01})) == DecodeError::Ok);
  CHECK(err(bytes({0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00})) ==
        DecodeError::InvalidFixedHeaderFlags);  // SUBSCRIBE needs 0010
  CHECK(err(bytes({0xA0, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'})) ==
        DecodeError::InvalidFixedHeaderFlags);  // UNSUBSCRIBE needs 0010
  CHECK(err(bytes({0xC1, 0x00})) == DecodeError::InvalidFixedHeaderFlags);
  CHECK(err(bytes({0xE8, 0x00})) == DecodeError::InvalidFixedHeaderFlags);
}

TEST_CASE("rule: QoS 3 (both QoS bits set)", "[codec][validation]") {
  CHECK(err(frame(0x36, bytes({0x00, 0x01, 't', 0x00, 0x01}))) == DecodeError::InvalidQoS);
  auto will_qos3 = connect_frame("MQTT", 4, 0x1C, kClientId);
  CHECK(err(will_qos3) == DecodeError::InvalidQoS);
  CHECK(err(bytes({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x03})) == DecodeError::InvalidQoS);
}

TEST_CASE("rule: DUP on a QoS 0 PUBLISH", "[codec][validation]") {
  CHECK(err(frame(0x38, bytes({0x00, 0x01, 't'}))) == DecodeError::DupWithQoS0);
}

TEST_CASE("rule: missing or zero packet identifier", "[codec][validation]") {
  CHECK(err(frame(0x32, bytes({0x00, 0x01, 't', 0x00, 0x00}))) == DecodeError::ZeroPacketId);
  CHECK(err(frame(0x32, bytes({0x00, 0x01, 't', 0x00}))) == DecodeError::Truncated);
  CHECK(err(bytes({0x40, 0x02, 0x00, 0x00})) == DecodeError::ZeroPacketId);
  CHECK(err(bytes({0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 'a', 0x00})) == DecodeError::ZeroPacketId);
  CHECK(err(bytes({0xA2, 0x05, 0x00, 0x00, 0x00, 0x01, 'a'})) == DecodeError::ZeroPacketId);
  CHECK(err(bytes({0x40, 0x01, 0x00})) == DecodeError::Truncated);
}

TEST_CASE("rule: truncated fields", "[codec][validation]") {
  CHECK(err(frame(0x30, bytes({0x00, 0x0A, 'a', 'b'}))) == DecodeError::Truncated);
  CHECK(err(frame(0x10, bytes({0x00, 0x04, 'M', 'Q'}))) == DecodeError::Truncated);
  CHECK(err(connect_frame("MQTT", 4, 0x02, bytes({0x00, 0x05, 'c'}))) == DecodeError::Truncated);
  // Will flag set but no will topic/payload.
  CHECK(err(connect_frame("MQTT", 4, 0x06, kClientId)) == DecodeError::Truncated);
  // Property block longer than the packet.
  CHECK(err(publish_v5(bytes({0x05, 0x01})), v5) == DecodeError::Truncated);
  // A property value cut by the end of its block.
  CHECK(err(publish_v5(bytes({0x02, 0x02, 0x00})), v5) == DecodeError::Truncated);
}

TEST_CASE("rule: trailing bytes inside a packet", "[codec][validation]") {
  CHECK(err(bytes({0x40, 0x03, 0x00, 0x01, 0x00}), v311) == DecodeError::TrailingBytes);
  CHECK(err(bytes({0xC0, 0x01, 0x00})) == DecodeError::TrailingBytes);
  CHECK(err(bytes({0xE0, 0x01, 0x00}), v311) == DecodeError::TrailingBytes);
  CHECK(err(connect_frame("MQTT", 4, 0x02, cat(kClientId, bytes({0x00})))) ==
        DecodeError::TrailingBytes);
  CHECK(err(bytes({0x20, 0x03, 0x00, 0x00, 0x00}), v311, false) == DecodeError::TrailingBytes);
  CHECK(err(bytes({0xB0, 0x03, 0x00, 0x01, 0x00}), v311, false) == DecodeError::TrailingBytes);
  CHECK(err(bytes({0x40, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00}), v5) == DecodeError::TrailingBytes);
}

TEST_CASE("rule: invalid UTF-8 (ill-formed, surrogate)", "[codec][validation]") {
  CHECK(err(frame(0x30, bytes({0x00, 0x03, 0xED, 0xA0, 0x80}))) == DecodeError::InvalidUtf8);
  CHECK(err(frame(0x30, bytes({0x00, 0x02, 0xC0, 0x80}))) == DecodeError::InvalidUtf8);
  CHECK(err(connect_frame("MQTT", 4, 0x02, bytes({0x00, 0x01, 0xFF}))) == DecodeError::InvalidUtf8);
  // In a user property.
  CHECK(err(publish_v5(bytes({0x07, 0x26, 0x00, 0x01, 0xFE, 0x00, 0x01, 'v'})), v5) ==
        DecodeError::InvalidUtf8);
}

TEST_CASE("rule: U+0000 in a UTF-8 string", "[codec][validation]") {
  CHECK(err(frame(0x30, bytes({0x00, 0x03, 'a', 0x00, 'b'}))) == DecodeError::Utf8NullCharacter);
  CHECK(err(bytes({0xA2, 0x05, 0x00, 0x01, 0x00, 0x01, 0x00})) == DecodeError::Utf8NullCharacter);
}

TEST_CASE("rule: malformed variable byte integer in properties", "[codec][validation]") {
  CHECK(err(publish_v5(bytes({0x80, 0x80, 0x80, 0x80, 0x01})), v5) == DecodeError::MalformedVarint);
  CHECK(err(publish_v5(bytes({0x02, 0x0B, 0x80})), v5, false) == DecodeError::Truncated);
  CHECK(err(publish_v5(bytes({0x03, 0x0B, 0x81, 0x00})), v5, false) ==
        DecodeError::MalformedVarint);
}

TEST_CASE("rule: empty topic name", "[codec][validation]") {
  CHECK(err(frame(0x30, bytes({0x00, 0x00})), v311) == DecodeError::EmptyTopicName);
  CHECK(err(frame(0x30, bytes({0x00, 0x00, 0x00})), v5) == DecodeError::EmptyTopicName);
  // With a Topic Alias it is how MQTT 5 refers to an established alias.
  CHECK(err(frame(0x30, bytes({0x00, 0x00, 0x03, 0x23, 0x00, 0x01})), v5) == DecodeError::Ok);
}

TEST_CASE("rule: wildcards in a topic name", "[codec][validation]") {
  CHECK(err(frame(0x30, bytes({0x00, 0x03, 'a', '/', '+'}))) == DecodeError::WildcardInTopicName);
  CHECK(err(frame(0x30, bytes({0x00, 0x01, '#'}))) == DecodeError::WildcardInTopicName);
  auto will = cat(kClientId, bytes({0x00, 0x03, 'w', '/', '#', 0x00, 0x00}));
  CHECK(err(connect_frame("MQTT", 4, 0x06, will)) == DecodeError::WildcardInTopicName);
}

TEST_CASE("rule: invalid topic filters", "[codec][validation]") {
  for (std::string_view f : {"a/b#", "#/a", "a+/b", "a/#/b"}) {
    INFO(f);
    ByteVec body = bytes({0x00, 0x01, 0x00, static_cast<int>(f.size())});
    CHECK(err(frame(0x82, cat(cat(body, str_bytes(f)), bytes({0x00})))) ==
          DecodeError::InvalidTopicFilter);
    CHECK(err(frame(0xA2, cat(body, str_bytes(f)))) == DecodeError::InvalidTopicFilter);
  }
  CHECK(err(bytes({0x82, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00})) == DecodeError::InvalidTopicFilter);
}

TEST_CASE("a server that refuses filters one by one gets them as sent", "[codec][validation]") {
  DecodeOptions o = opts(v311, true);
  o.check_subscribe_filters = false;
  for (std::string_view f : {"a/#/b", "$share/g", ""}) {
    INFO(f);
    ByteVec body = bytes({0x00, 0x01, 0x00, static_cast<int>(f.size())});
    ByteVec sub = frame(0x82, cat(cat(body, str_bytes(f)), bytes({0x01})));
    CHECK(decode_error_of(sub, o) == DecodeError::Ok);
    // UNSUBSCRIBE is checked as before: nothing to refuse one by one there.
    CHECK(decode_error_of(frame(0xA2, cat(body, str_bytes(f))), o) != DecodeError::Ok);
  }
}

TEST_CASE("rule: invalid shared subscription", "[codec][validation]") {
  std::string_view f = "$share/g";
  ByteVec body = bytes({0x00, 0x01, 0x00, static_cast<int>(f.size())});
  CHECK(err(frame(0x82, cat(cat(body, str_bytes(f)), bytes({0x00})))) ==
        DecodeError::InvalidSharedSubscription);
}

TEST_CASE("rule: empty subscription / unsubscription lists", "[codec][validation]") {
  CHECK(err(bytes({0x82, 0x02, 0x00, 0x01})) == DecodeError::EmptySubscriptionList);
  CHECK(err(bytes({0x82, 0x03, 0x00, 0x01, 0x00}), v5) == DecodeError::EmptySubscriptionList);
  CHECK(err(bytes({0xA2, 0x02, 0x00, 0x01})) == DecodeError::EmptyUnsubscriptionList);
  CHECK(err(bytes({0x90, 0x02, 0x00, 0x01}), v311, false) == DecodeError::EmptyReasonCodeList);
  CHECK(err(bytes({0xB0, 0x03, 0x00, 0x01, 0x00}), v5, false) == DecodeError::EmptyReasonCodeList);
}

TEST_CASE("rule: invalid subscription options bits", "[codec][validation]") {
  auto sub = [](int options) { return bytes({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', options}); };
  auto sub5 = [](int options) {
    return bytes({0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', options});
  };
  CHECK(err(sub(0x04), v311) == DecodeError::InvalidSubscriptionOptions);  // No Local pre-5
  CHECK(err(sub(0x80), v311) == DecodeError::InvalidSubscriptionOptions);
  CHECK(err(sub5(0x40), v5) == DecodeError::InvalidSubscriptionOptions);
  CHECK(err(sub5(0x30), v5) == DecodeError::InvalidSubscriptionOptions);  // Retain Handling 3
  CHECK(err(sub5(0x2E), v5) == DecodeError::Ok);
}

TEST_CASE("rule: No Local on a shared subscription", "[codec][validation]") {
  std::string_view f = "$share/g/a";
  ByteVec body = bytes({0x00, 0x01, 0x00, 0x00, static_cast<int>(f.size())});
  CHECK(err(frame(0x82, cat(cat(body, str_bytes(f)), bytes({0x04}))), v5) ==
        DecodeError::NoLocalOnSharedSubscription);
}

TEST_CASE("rule: unknown property identifier", "[codec][validation]") {
  CHECK(err(publish_v5(bytes({0x02, 0x05, 0x00})), v5) == DecodeError::UnknownProperty);
  CHECK(err(publish_v5(bytes({0x02, 0x7F, 0x00})), v5) == DecodeError::UnknownProperty);
}

TEST_CASE("rule: property not allowed on this packet", "[codec][validation]") {
  // Session Expiry Interval in PUBLISH.
  CHECK(err(publish_v5(bytes({0x05, 0x11, 0, 0, 0, 1})), v5) == DecodeError::PropertyNotAllowed);
  // Will Delay Interval in CONNECT's own properties.
  auto c = connect_frame("MQTT", 5, 0x02, cat(bytes({0x05, 0x18, 0, 0, 0, 1}), kClientId));
  CHECK(err(c) == DecodeError::PropertyNotAllowed);
  // Reason String in PUBACK is fine, Topic Alias is not.
  CHECK(err(bytes({0x40, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00, 0x01}), v5) ==
        DecodeError::PropertyNotAllowed);
  // Session Expiry Interval in a server's DISCONNECT.
  CHECK(err(bytes({0xE0, 0x07, 0x00, 0x05, 0x11, 0, 0, 0, 1}), v5, false) ==
        DecodeError::PropertyNotAllowed);
  CHECK(err(bytes({0xE0, 0x07, 0x00, 0x05, 0x11, 0, 0, 0, 1}), v5, true) == DecodeError::Ok);
}

TEST_CASE("rule: duplicate once-only property", "[codec][validation]") {
  CHECK(err(publish_v5(bytes({0x0A, 0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 2})), v5) ==
        DecodeError::DuplicateProperty);
  // Subscription Identifier: repeatable in PUBLISH (to a client), once in SUBSCRIBE.
  CHECK(err(publish_v5(bytes({0x04, 0x0B, 0x01, 0x0B, 0x02})), v5, false) == DecodeError::Ok);
  CHECK(err(bytes({0x82, 0x0B, 0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02, 0x00, 0x01, 'a', 0x00}),
            v5) == DecodeError::DuplicateProperty);
  // User Property repeats freely.
  CHECK(err(publish_v5(bytes({0x0E, 0x26, 0, 1, 'k', 0, 1, 'v', 0x26, 0, 1, 'k', 0, 1, 'v'})),
            v5) == DecodeError::Ok);
}

TEST_CASE("rule: invalid property values", "[codec][validation]") {
  CHECK(err(publish_v5(bytes({0x02, 0x01, 0x02})), v5) == DecodeError::InvalidPropertyValue);
  CHECK(err(publish_v5(bytes({0x03, 0x23, 0x00, 0x00})), v5) == DecodeError::TopicAliasZero);
  CHECK(err(publish_v5(bytes({0x02, 0x0B, 0x00})), v5, false) == DecodeError::InvalidPropertyValue);
  CHECK(err(publish_v5(bytes({0x06, 0x08, 0x00, 0x03, 'a', '/', '#'})), v5) ==
        DecodeError::InvalidPropertyValue);  // wildcard in Response Topic
  auto c = connect_frame("MQTT", 5, 0x02, cat(bytes({0x03, 0x21, 0x00, 0x00}), kClientId));
  CHECK(err(c) == DecodeError::InvalidPropertyValue);  // Receive Maximum 0
  CHECK(err(bytes({0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02}), v5, false) ==
        DecodeError::InvalidPropertyValue);  // Maximum QoS 2
}

TEST_CASE("rule: subscription identifier in a client's PUBLISH", "[codec][validation]") {
  CHECK(err(publish_v5(bytes({0x02, 0x0B, 0x01})), v5, true) ==
        DecodeError::SubscriptionIdFromClient);
}

TEST_CASE("rule: authentication data without method", "[codec][validation]") {
  auto c = connect_frame("MQTT", 5, 0x02, cat(bytes({0x04, 0x16, 0x00, 0x01, 'x'}), kClientId));
  CHECK(err(c) == DecodeError::AuthDataWithoutMethod);
}

TEST_CASE("rule: reason codes not defined for the packet", "[codec][validation]") {
  CHECK(err(bytes({0x40, 0x03, 0x00, 0x01, 0x05}), v5) == DecodeError::InvalidReasonCode);
  CHECK(err(bytes({0x70, 0x03, 0x00, 0x01, 0x10}), v5) == DecodeError::InvalidReasonCode);
  CHECK(err(bytes({0x20, 0x02, 0x00, 0x06}), v311, false) == DecodeError::InvalidReasonCode);
  CHECK(err(bytes({0x90, 0x03, 0x00, 0x01, 0x03}), v311, false) == DecodeError::InvalidReasonCode);
  CHECK(err(bytes({0xE0, 0x01, 0x01}), v5) == DecodeError::InvalidReasonCode);
  CHECK(err(bytes({0xF0, 0x01, 0x80}), v5) == DecodeError::InvalidReasonCode);
}

TEST_CASE("rule: protocol name and level", "[codec][validation]") {
  CHECK(err(connect_frame("MQTX", 4, 0x02, kClientId)) == DecodeError::UnknownProtocolName);
  CHECK(err(connect_frame("MQTT", 3, 0x02, kClientId)) == DecodeError::ProtocolNameLevelMismatch);
  CHECK(err(connect_frame("MQIsdp", 4, 0x02, kClientId)) == DecodeError::ProtocolNameLevelMismatch);
  CHECK(err(connect_frame("MQTT", 6, 0x02, kClientId)) == DecodeError::UnsupportedProtocolVersion);
  CHECK(err(connect_frame("MQIsdp", 3, 0x02, kClientId)) == DecodeError::Ok);
  CHECK(reason_code(DecodeError::UnsupportedProtocolVersion) ==
        ReasonCode::UnsupportedProtocolVersion);
}

TEST_CASE("rule: CONNECT reserved flag", "[codec][validation]") {
  CHECK(err(connect_frame("MQTT", 4, 0x03, kClientId)) == DecodeError::ConnectReservedFlag);
}

TEST_CASE("rule: password without user name (3.1, 3.1.1)", "[codec][validation]") {
  auto pw = cat(kClientId, bytes({0x00, 0x01, 'p'}));
  CHECK(err(connect_frame("MQTT", 4, 0x42, pw)) == DecodeError::PasswordWithoutUsername);
  CHECK(err(connect_frame("MQIsdp", 3, 0x42, pw)) == DecodeError::PasswordWithoutUsername);
  // MQTT 5 allows it.
  auto pw5 = cat(bytes({0x00}), pw);
  CHECK(err(connect_frame("MQTT", 5, 0x42, pw5)) == DecodeError::Ok);
}

TEST_CASE("rule: will QoS/retain without will flag", "[codec][validation]") {
  CHECK(err(connect_frame("MQTT", 4, 0x0A, kClientId)) == DecodeError::WillFlagsWithoutWill);
  CHECK(err(connect_frame("MQTT", 4, 0x22, kClientId)) == DecodeError::WillFlagsWithoutWill);
}

TEST_CASE("rule: CONNACK reserved acknowledge flags", "[codec][validation]") {
  CHECK(err(bytes({0x20, 0x02, 0x02, 0x00}), v311, false) == DecodeError::ConnAckReservedFlags);
}

TEST_CASE("is_plain_topic agrees with the full UTF-8 and topic name checks",
          "[codec][validation]") {
  // The fast path may only say "plain" for topics the full checks accept; it must say so
  // for printable ASCII without wildcards (else the fast path is never taken).
  auto full_check = [](std::string_view s) {
    bool ascii = true;
    for (char c : s)
      ascii &= static_cast<unsigned char>(c) < 0x80;
    const bool wildcard = s.find_first_of("+#") != std::string_view::npos;
    CHECK(has_wildcard(s) == wildcard);
    return ascii && check_mqtt_utf8(s) == Utf8Status::Ok && !wildcard;
  };
  CHECK(is_plain_topic(""));
  CHECK(is_plain_topic("sensors/kitchen/temperature"));
  CHECK_FALSE(is_plain_topic("sensors/+/temperature"));
  CHECK_FALSE(is_plain_topic("sensors/kitchen/temperature/#"));
  CHECK_FALSE(is_plain_topic(std::string_view("a/b\0c", 5)));
  CHECK_FALSE(is_plain_topic("caf\xc3\xa9/menu"));

  std::mt19937 rng(7);
  const char alphabet[] = {'a', '/', '+', '#', '\0', '\x7f', '\x80', '\xc3', '\xa9', 'Z', ' '};
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 24, 'x');
    const int dirt = static_cast<int>(rng() % 3);  // 0..2 odd bytes anywhere
    for (int k = 0; k < dirt && !s.empty(); ++k)
      s[rng() % s.size()] = alphabet[rng() % sizeof alphabet];
    REQUIRE(is_plain_topic(s) == full_check(s));
  }
}
