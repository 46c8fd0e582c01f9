// Helpers shared by the codec tests: byte vectors, encode to a vector, decode expecting
// success or a given error.
#pragma once

#include <catch2/catch.hpp>
#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "core/decoder.hpp"
#include "core/encoder.hpp"

namespace codec_test {

using namespace shardmq::core;
using ByteVec = std::vector<std::byte>;

inline ByteVec bytes(std::initializer_list<int> v) {
  ByteVec out;
  for (int b : v)
    out.push_back(static_cast<std::byte>(b));
  return out;
}

inline ByteVec str_bytes(std::string_view s) {
  ByteVec out;
  for (char c : s)
    out.push_back(static_cast<std::byte>(c));
  return out;
}

inline ByteVec cat(ByteVec a, const ByteVec& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline ByteVec encode_vec(const Packet& p, ProtocolVersion v) {
  ByteVec out(encoded_size(p, v));
  auto r = encode(p, v, out);
  REQUIRE(r.has_value());
  REQUIRE(*r == out.size());
  return out;
}

inline DecodeOptions opts(ProtocolVersion v, bool is_server = true) {
  DecodeOptions o;
  o.version = v;
  o.is_server = is_server;
  return o;
}

// Decodes a buffer that must hold exactly one valid packet.
inline Packet decode_one(const ByteVec& buf, const DecodeOptions& o) {
  auto r = decode_packet(buf, o);
  if (!r) FAIL("decode failed: " << decode_error_name(r.error()));
  REQUIRE(r->complete());
  REQUIRE(r->consumed == buf.size());
  return std::move(r->packet);
}

inline DecodeError decode_error_of(const ByteVec& buf, const DecodeOptions& o) {
  auto r = decode_packet(buf, o);
  if (r) return DecodeError::Ok;
  return r.error();
}

// A fixed header around a body.
inline ByteVec frame(int first, const ByteVec& body) {
  ByteVec out{static_cast<std::byte>(first)};
  std::size_t n = body.size();
  do {
    auto b = static_cast<int>(n & 0x7F);
    n >>= 7;
    if (n) b |= 0x80;
    out.push_back(static_cast<std::byte>(b));
  } while (n);
  return cat(out, body);
}

inline std::string_view sv(Bytes b) {
  return as_string_view(b);
}

}  // namespace codec_test
