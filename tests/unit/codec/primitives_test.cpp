// Wire primitives: the remaining-length table, UTF-8 rules, topic syntax, reason codes.
#include "codec_test_support.hpp"
#include "core/topic_validation.hpp"
#include "core/utf8.hpp"
#include "core/wire_reader.hpp"
#include "core/wire_writer.hpp"

using namespace codec_test;

TEST_CASE("variable byte integer: spec table of boundaries", "[codec][varint]") {
  struct Row {
    std::uint32_t value;
    ByteVec encoded;
  };
  const Row rows[] = {
      {0, bytes({0x00})},
      {127, bytes({0x7F})},
      {128, bytes({0x80, 0x01})},
      {16383, bytes({0xFF, 0x7F})},
      {16384, bytes({0x80, 0x80, 0x01})},
      {2097151, bytes({0xFF, 0xFF, 0x7F})},
      {2097152, bytes({0x80, 0x80, 0x80, 0x01})},
      {268435455, bytes({0xFF, 0xFF, 0xFF, 0x7F})},
  };
  for (const Row& row : rows) {
    INFO("value " << row.value);
    ByteVec buf(4);
    WireWriter w(buf.data());
    w.varint(row.value);
    buf.resize(static_cast<std::size_t>(w.position() - buf.data()));
    CHECK(buf == row.encoded);
    CHECK(varint_size(row.value) == row.encoded.size());

    WireReader r(row.encoded);
    std::uint32_t v = 0;
    REQUIRE(r.varint(v) == VarintStatus::Ok);
    CHECK(v == row.value);
    CHECK(r.empty());

    // The same value as a Remaining Length: peek_frame reports header and total size.
    ByteVec header = cat(bytes({0x30}), row.encoded);
    auto f = peek_frame(header);
    REQUIRE(f.has_value());
    CHECK(f->header_size == header.size());
    CHECK(f->total_size == header.size() + row.value);
  }
}

TEST_CASE("variable byte integer: five bytes, truncation and non-minimal", "[codec][varint]") {
  std::uint32_t v = 0;
  auto five = bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x01});
  CHECK(WireReader(five).varint(v) == VarintStatus::TooLong);
  auto cut = bytes({0x80, 0x80});
  CHECK(WireReader(cut).varint(v) == VarintStatus::Truncated);
  auto padded = bytes({0x80, 0x00});
  CHECK(WireReader(padded).varint(v) == VarintStatus::NonMinimal);
}

TEST_CASE("peek_frame: incomplete header needs more bytes", "[codec][frame]") {
  auto one = bytes({0x30});
  auto f = peek_frame(one);
  REQUIRE(f.has_value());
  CHECK(f->header_size == 0);
  auto partial = bytes({0x30, 0x80, 0x80});
  f = peek_frame(partial);
  REQUIRE(f.has_value());
  CHECK(f->header_size == 0);
}

TEST_CASE("UTF-8: MQTT rules", "[codec][utf8]") {
  CHECK(check_mqtt_utf8("") == Utf8Status::Ok);
  CHECK(check_mqtt_utf8("sensors/temperature/room-1") == Utf8Status::Ok);
  CHECK(check_mqtt_utf8("caf\xC3\xA9") == Utf8Status::Ok);                       // U+00E9
  CHECK(check_mqtt_utf8("\xE2\x82\xAC") == Utf8Status::Ok);                      // U+20AC
  CHECK(check_mqtt_utf8("\xF0\x9F\x98\x80 long ascii tail") == Utf8Status::Ok);  // U+1F600
  CHECK(check_mqtt_utf8("\xEF\xBF\xBF") == Utf8Status::Ok);  // U+FFFF (SHOULD NOT only)
  CHECK(check_mqtt_utf8(std::string_view("a\0b", 3)) == Utf8Status::NullCharacter);
  CHECK(check_mqtt_utf8(std::string_view("0123456789\0abcdef", 17)) == Utf8Status::NullCharacter);
  CHECK(check_mqtt_utf8("\xED\xA0\x80") == Utf8Status::IllFormed);      // U+D800 surrogate
  CHECK(check_mqtt_utf8("\xED\xBF\xBF") == Utf8Status::IllFormed);      // U+DFFF surrogate
  CHECK(check_mqtt_utf8("\xC0\x80") == Utf8Status::IllFormed);          // overlong U+0000
  CHECK(check_mqtt_utf8("\xE0\x80\xAF") == Utf8Status::IllFormed);      // overlong '/'
  CHECK(check_mqtt_utf8("\xF4\x90\x80\x80") == Utf8Status::IllFormed);  // > U+10FFFF
  CHECK(check_mqtt_utf8("\x80") == Utf8Status::IllFormed);              // lone continuation
  CHECK(check_mqtt_utf8("abc\xC3") == Utf8Status::IllFormed);           // truncated sequence
  CHECK(check_mqtt_utf8("\xFF") == Utf8Status::IllFormed);
  CHECK(check_mqtt_utf8("abcdefgh\xC3(") == Utf8Status::IllFormed);  // bad continuation
}

TEST_CASE("topic names", "[codec][topic]") {
  CHECK(check_topic_name("a/b/c") == TopicStatus::Ok);
  CHECK(check_topic_name("/") == TopicStatus::Ok);
  CHECK(check_topic_name("$SYS/x") == TopicStatus::Ok);
  CHECK(check_topic_name("") == TopicStatus::Empty);
  CHECK(check_topic_name("a/+/c") == TopicStatus::Wildcard);
  CHECK(check_topic_name("a/#") == TopicStatus::Wildcard);
  CHECK(check_topic_name("a#") == TopicStatus::Wildcard);
}

TEST_CASE("topic filters", "[codec][topic]") {
  for (auto f : {"a/b", "#", "+", "a/+/c", "a/#", "+/+", "/", "/#", "+/#", "$share/g/a/#",
                 "$share/g/#", "$share"}) {
    INFO(f);
    CHECK(check_topic_filter(f) == TopicStatus::Ok);
  }
  for (auto f : {"a/b#", "#/a", "a+/b", "a/+b", "a/#/b", "##", "++"}) {
    INFO(f);
    CHECK(check_topic_filter(f) == TopicStatus::InvalidFilter);
  }
  CHECK(check_topic_filter("") == TopicStatus::Empty);
  for (auto f : {"$share/", "$share//a", "$share/g", "$share/g/", "$share/g+/a", "$share/#/a"}) {
    INFO(f);
    CHECK(check_topic_filter(f) == TopicStatus::InvalidShared);
  }
  CHECK(check_topic_filter("$share/g/a+") == TopicStatus::InvalidFilter);
  auto s = split_shared_filter("$share/group/x/+");
  CHECK(s.is_shared());
  CHECK(s.group == "group");
  CHECK(s.filter == "x/+");
  CHECK_FALSE(split_shared_filter("x/+").is_shared());
}

TEST_CASE("reason codes: names and per-packet validity", "[codec][reason]") {
  CHECK(reason_code_name(ReasonCode::MalformedPacket) == "Malformed Packet");
  CHECK(reason_code_name(ReasonCode::WildcardSubscriptionsNotSupported) ==
        "Wildcard Subscriptions not supported");
  CHECK(reason_code_name(static_cast<ReasonCode>(0x7F)) == "Unknown");
  CHECK(reason_code_name(ReasonCode::Success) == "Success");
  CHECK(reason_code_name(ReasonCode::NormalDisconnection, PacketType::Disconnect) ==
        "Normal disconnection");
  CHECK(reason_code_name(ReasonCode::GrantedQoS0, PacketType::SubAck) == "Granted QoS 0");
  CHECK(reason_code_name(ReasonCode::KeepAliveTimeout, PacketType::Disconnect) ==
        "Keep Alive timeout");
  CHECK(reason_code_allowed(PacketType::PubAck, 0x10));
  CHECK_FALSE(reason_code_allowed(PacketType::PubRel, 0x10));
  CHECK(reason_code_allowed(PacketType::Auth, 0x18));
  CHECK_FALSE(reason_code_allowed(PacketType::Auth, 0x80));
  CHECK(reason_code_allowed(PacketType::Disconnect, 0x04));
  CHECK(connect_return_code_for(ReasonCode::UnsupportedProtocolVersion) ==
        ConnectReturnCode::UnacceptableProtocolVersion);
  CHECK(connect_return_code_for(ReasonCode::NotAuthorized) == ConnectReturnCode::NotAuthorized);
}

TEST_CASE("decode errors: reason codes and distinct names", "[codec][errors]") {
  CHECK(reason_code(DecodeError::PacketTooLarge) == ReasonCode::PacketTooLarge);
  CHECK(reason_code(DecodeError::Truncated) == ReasonCode::MalformedPacket);
  CHECK(reason_code(DecodeError::DuplicateProperty) == ReasonCode::ProtocolError);
  CHECK(reason_code(DecodeError::WildcardInTopicName) == ReasonCode::TopicNameInvalid);
  CHECK(reason_code(DecodeError::InvalidTopicFilter) == ReasonCode::TopicFilterInvalid);
  CHECK(reason_code(DecodeError::UnsupportedProtocolVersion) ==
        ReasonCode::UnsupportedProtocolVersion);
  std::vector<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(DecodeError::ConnAckReservedFlags); ++i) {
    names.push_back(decode_error_name(static_cast<DecodeError>(i)));
  }
  std::sort(names.begin(), names.end());
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
}
