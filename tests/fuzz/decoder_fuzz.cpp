// libFuzzer target for the MQTT decoder. For every protocol level and both directions:
// decode; whatever decodes must encode, decode again to the same packet type and size, and
// encode to the same bytes (encoding is canonical, so the second round is a fixed point).
// The stream decoder, fed the input in small chunks, must agree with decode_packet.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/decoder.hpp"
#include "core/encoder.hpp"

namespace {

using namespace shardmq::core;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::vector<std::byte> encode_all(const Packet& p, ProtocolVersion v) {
  std::vector<std::byte> out(encoded_size(p, v));
  auto n = encode(p, v, out);
  check(n.has_value() && *n == out.size());
  return out;
}

void round_trip(std::span<const std::byte> buf, const DecodeOptions& o) {
  Decoded d;
  if (decode_packet_into(buf, o, d) != DecodeError::Ok || !d.complete()) return;
  check(d.consumed <= buf.size());
  std::vector<std::byte> first = encode_all(d.packet, o.version);
  Decoded again;
  check(decode_packet_into(first, o, again) == DecodeError::Ok);
  check(again.complete() && again.consumed == first.size());
  check(again.packet.index() == d.packet.index());
  check(encode_all(again.packet, o.version) == first);
}

// decode_packet in a loop vs StreamDecoder in chunks: same packets, same final error.
void stream_agrees(std::span<const std::byte> buf, const DecodeOptions& o, std::size_t chunk) {
  std::vector<std::uint8_t> direct;
  DecodeError direct_err = DecodeError::Ok;
  std::span<const std::byte> rest = buf;
  DecodeOptions od = o;
  for (;;) {
    Decoded d;
    direct_err = decode_packet_into(rest, od, d);
    if (direct_err != DecodeError::Ok || !d.complete()) break;
    direct.push_back(static_cast<std::uint8_t>(d.packet.index()));
    if (const auto* c = std::get_if<Connect>(&d.packet); c && od.is_server) od.version = c->version;
    rest = rest.subspan(d.consumed);
  }
  std::vector<std::uint8_t> streamed;
  StreamDecoder sd(o);
  DecodeError stream_err = DecodeError::Ok;
  for (std::size_t i = 0; i < buf.size() && stream_err == DecodeError::Ok; i += chunk) {
    std::size_t n = buf.size() - i < chunk ? buf.size() - i : chunk;
    stream_err = sd.feed(buf.subspan(i, n), [&](const Packet& p) {
      streamed.push_back(static_cast<std::uint8_t>(p.index()));
    });
  }
  check(streamed == direct);
  check(stream_err == direct_err);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::byte> buf(reinterpret_cast<const std::byte*>(data), size);
  for (auto v : {ProtocolVersion::v31, ProtocolVersion::v311, ProtocolVersion::v5}) {
    for (bool is_server : {true, false}) {
      DecodeOptions o;
      o.version = v;
      o.is_server = is_server;
      round_trip(buf, o);
    }
  }
  if (size > 0) {
    DecodeOptions o;
    o.version = (data[0] & 1) ? ProtocolVersion::v5 : ProtocolVersion::v311;
    stream_agrees(buf, o, 1 + size % 7);
  }
  return 0;
}
