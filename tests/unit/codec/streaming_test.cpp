// Streaming: a buffer of several packets fed in every possible split, and byte by byte.
#include "codec_test_support.hpp"

using namespace codec_test;

namespace {

ByteVec three_packets(ProtocolVersion v) {
  Connect c;
  c.version = v;
  c.client_id = "stream";
  Publish p;
  p.topic = "a/b";
  p.qos = QoS::AtLeastOnce;
  p.packet_id = 5;
  std::string payload(300, 'z');  // two-byte remaining length
  p.payload = as_bytes(payload);
  ByteVec out = encode_vec(c, v);
  out = cat(out, encode_vec(p, v));
  out = cat(out, encode_vec(PingReq{}, v));
  return out;
}

struct Seen {
  std::vector<PacketType> types;
  std::vector<std::string> payloads;
};

DecodeError feed_all(StreamDecoder& sd, std::span<const std::byte> data, Seen& seen) {
  return sd.feed(data, [&](const Packet& p) {
    seen.types.push_back(packet_type(p));
    if (const auto* pub = std::get_if<Publish>(&p)) seen.payloads.emplace_back(sv(pub->payload));
  });
}

const std::vector<PacketType> kExpected = {PacketType::Connect, PacketType::Publish,
                                           PacketType::PingReq};

}  // namespace

TEST_CASE("stream decoder: every split point of a three-packet buffer", "[codec][stream]") {
  for (auto v : {ProtocolVersion::v311, ProtocolVersion::v5}) {
    ByteVec all = three_packets(v);
    for (std::size_t split = 0; split <= all.size(); ++split) {
      INFO("level " << int(v) << " split " << split);
      // The server starts at 3.1.1 and learns the level from CONNECT.
      StreamDecoder sd(opts(ProtocolVersion::v311));
      Seen seen;
      std::span<const std::byte> whole(all);
      REQUIRE(feed_all(sd, whole.first(split), seen) == DecodeError::Ok);
      REQUIRE(feed_all(sd, whole.subspan(split), seen) == DecodeError::Ok);
      CHECK(seen.types == kExpected);
      REQUIRE(seen.payloads.size() == 1);
      CHECK(seen.payloads[0] == std::string(300, 'z'));
      CHECK(sd.buffered() == 0);
      CHECK(sd.options().version == v);
    }
  }
}

TEST_CASE("stream decoder: one byte at a time", "[codec][stream]") {
  ByteVec all = three_packets(ProtocolVersion::v5);
  StreamDecoder sd;
  Seen seen;
  for (std::size_t i = 0; i < all.size(); ++i) {
    REQUIRE(feed_all(sd, std::span<const std::byte>(all).subspan(i, 1), seen) == DecodeError::Ok);
    if (i + 2 == all.size()) {
      // Only the last packet's final byte is missing.
      CHECK(seen.types.size() == 2);
      CHECK(sd.buffered() == 1);
    }
  }
  CHECK(seen.types == kExpected);
  CHECK(sd.buffered() == 0);
}

TEST_CASE("stream decoder: complete packets are decoded in place", "[codec][stream]") {
  Publish p;
  p.topic = "t";
  p.payload = as_bytes("in-place");
  ByteVec wire = encode_vec(p, ProtocolVersion::v311);
  StreamDecoder sd;
  const std::byte* payload_ptr = nullptr;
  REQUIRE(sd.feed(wire, [&](const Packet& pk) {
    payload_ptr = std::get<Publish>(pk).payload.data();
  }) == DecodeError::Ok);
  CHECK(payload_ptr == wire.data() + wire.size() - 8);
}

TEST_CASE("stream decoder: errors stop the stream", "[codec][stream]") {
  StreamDecoder sd;
  int count = 0;
  auto bad = cat(encode_vec(PingReq{}, ProtocolVersion::v311), bytes({0xC1, 0x00}));
  CHECK(sd.feed(bad, [&](const Packet&) { ++count; }) == DecodeError::InvalidFixedHeaderFlags);
  CHECK(count == 1);

  DecodeOptions o;
  o.max_packet_size = 64;
  StreamDecoder small(o);
  CHECK(small.feed(bytes({0x30, 0xC8}), [](const Packet&) {}) == DecodeError::Ok);  // partial
  CHECK(small.feed(bytes({0x01}), [](const Packet&) {}) == DecodeError::PacketTooLarge);
}

TEST_CASE("decode_packet: needs more bytes, then consumes one packet", "[codec][stream]") {
  ByteVec all = three_packets(ProtocolVersion::v311);
  auto first = decode_packet(std::span<const std::byte>(all).first(1), opts(ProtocolVersion::v311));
  REQUIRE(first.has_value());
  CHECK_FALSE(first->complete());
  CHECK(first->needed == 2);
  auto partial =
      decode_packet(std::span<const std::byte>(all).first(5), opts(ProtocolVersion::v311));
  REQUIRE(partial.has_value());
  CHECK_FALSE(partial->complete());
  CHECK(partial->needed ==
        encoded_size(
            std::get<Connect>(decode_one(
                ByteVec(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(partial->needed)),
                opts(ProtocolVersion::v311))),
            ProtocolVersion::v311));
  auto whole = decode_packet(all, opts(ProtocolVersion::v311));
  REQUIRE(whole.has_value());
  CHECK(whole->complete());
  CHECK(std::holds_alternative<Connect>(whole->packet));
  CHECK(whole->consumed < all.size());
}

TEST_CASE("decode_frame: a reused Publish keeps nothing of the previous one", "[codec][stream]") {
  Publish with;
  with.topic = "a/b";
  with.qos = QoS::AtLeastOnce;
  with.packet_id = 7;
  with.retain = true;
  with.properties.message_expiry_interval = 60;
  with.properties.content_type = "text/plain";
  const StringPair up[] = {{"k", "v"}};
  with.properties.user_properties = up;
  const ByteVec v5 = encode_vec(with, ProtocolVersion::v5);

  Publish plain;
  plain.topic = "c";
  const ByteVec v311 = encode_vec(plain, ProtocolVersion::v311);
  const ByteVec v5_bare = encode_vec(plain, ProtocolVersion::v5);  // property length 0

  auto decode_into = [](const ByteVec& buf, ProtocolVersion v, Packet& out) {
    auto f = peek_frame(buf);
    REQUIRE(f);
    REQUIRE(decode_frame(buf, f->header_size, opts(v), out) == DecodeError::Ok);
    return std::get<Publish>(out);
  };
  auto check_plain = [](const Publish& p) {
    CHECK(p.topic == "c");
    CHECK(p.qos == QoS::AtMostOnce);
    CHECK(p.packet_id == 0);
    CHECK_FALSE(p.retain);
    CHECK_FALSE(p.properties.message_expiry_interval);
    CHECK_FALSE(p.properties.content_type);
    CHECK(p.properties.raw.empty());
    CHECK(p.properties.user_property_count() == 0);
  };

  Packet scratch;
  for (const ByteVec* next : {&v311, &v5_bare}) {
    const Publish first = decode_into(v5, ProtocolVersion::v5, scratch);
    CHECK(first.properties.message_expiry_interval == 60u);
    CHECK(first.properties.user_property_count() == 1);
    check_plain(
        decode_into(*next, next == &v311 ? ProtocolVersion::v311 : ProtocolVersion::v5, scratch));
  }
}
