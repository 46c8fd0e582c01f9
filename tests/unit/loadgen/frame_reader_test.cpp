// FrameReader: what a broker sends a client (CONNACK, SUBACK, PUBLISH, PINGRESP), fed in every
// split a read can make, decodes to the same packets; only a cut packet stays in the tail.
#include "loadgen/frame_reader.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "core/encoder.hpp"

using namespace shardmq;

namespace {

std::vector<std::byte> encode(const core::Packet& p) {
  std::vector<std::byte> out(core::encoded_size(p, core::ProtocolVersion::v311));
  auto n = core::encode(p, core::ProtocolVersion::v311, out);
  REQUIRE(n);
  out.resize(*n);
  return out;
}

// All four packets back to back; `largest`: the size of the biggest.
std::vector<std::byte> broker_bytes(std::size_t& largest) {
  core::ConnAck ack;
  core::SubAck sub;
  sub.packet_id = 1;
  sub.reason_codes.push_back(core::ReasonCode::Success);
  core::Publish pub;
  pub.topic = "lg/1/many/7";
  std::string payload(200, 'x');  // a two-byte remaining length
  pub.payload = std::as_bytes(std::span(payload));
  std::vector<std::byte> all;
  for (const core::Packet& p :
       {core::Packet{ack}, core::Packet{sub}, core::Packet{pub}, core::Packet{core::PingResp{}}}) {
    auto b = encode(p);
    largest = std::max(largest, b.size());
    all.insert(all.end(), b.begin(), b.end());
  }
  return all;
}

core::DecodeOptions client_side() {
  core::DecodeOptions o;
  o.is_server = false;
  return o;
}

const std::vector<core::PacketType> kExpected = {
    core::PacketType::ConnAck, core::PacketType::SubAck, core::PacketType::Publish,
    core::PacketType::PingResp};

}  // namespace

TEST_CASE("FrameReader decodes every split of a read the same", "[loadgen]") {
  std::size_t largest = 0;
  const auto bytes = broker_bytes(largest);
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    loadgen::FrameReader reader(client_side());
    std::vector<std::byte> tail;
    std::vector<core::PacketType> seen;
    std::size_t payload = 0;
    auto on = [&](const core::Packet& p) {
      seen.push_back(core::packet_type(p));
      if (const auto* pub = std::get_if<core::Publish>(&p)) payload = pub->payload.size();
    };
    std::span<const std::byte> all(bytes);
    REQUIRE(reader.feed(tail, all.first(cut), on) == core::DecodeError::Ok);
    REQUIRE(reader.feed(tail, all.subspan(cut), on) == core::DecodeError::Ok);
    CHECK(seen == kExpected);
    CHECK(payload == 200);
    CHECK(tail.empty());
  }
}

TEST_CASE("FrameReader byte by byte keeps only the packet in progress", "[loadgen]") {
  std::size_t largest = 0;
  const auto bytes = broker_bytes(largest);
  loadgen::FrameReader reader(client_side());
  std::vector<std::byte> tail;
  std::vector<core::PacketType> seen;
  for (std::byte b : bytes) {
    REQUIRE(reader.feed(tail, std::span(&b, 1), [&](const core::Packet& p) {
      seen.push_back(core::packet_type(p));
    }) == core::DecodeError::Ok);
    CHECK(tail.size() < largest);  // a packet still incomplete, never more
  }
  CHECK(seen == kExpected);
  CHECK(tail.empty());
}

TEST_CASE("FrameReader reports what a client must not receive", "[loadgen]") {
  loadgen::FrameReader reader(client_side());
  std::vector<std::byte> tail;
  core::Connect c;  // a broker never sends CONNECT
  c.client_id = "x";
  auto b = encode(core::Packet{c});
  CHECK(reader.feed(tail, b, [](const core::Packet&) {}) != core::DecodeError::Ok);
}
