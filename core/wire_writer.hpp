// Unchecked writing of MQTT wire primitives. The encoder sizes the packet first and checks
// the buffer once, so each write here is a plain store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/mqtt_types.hpp"

namespace shardmq::core {

class WireWriter {
 public:
  explicit WireWriter(std::byte* p) : p_(p) {}

  std::byte* position() const { return p_; }

  void u8(std::uint8_t v) { *p_++ = static_cast<std::byte>(v); }
  void u16(std::uint16_t v) {
    p_[0] = static_cast<std::byte>(v >> 8);
    p_[1] = static_cast<std::byte>(v);
    p_ += 2;
  }
  void u32(std::uint32_t v) {
    p_[0] = static_cast<std::byte>(v >> 24);
    p_[1] = static_cast<std::byte>(v >> 16);
    p_[2] = static_cast<std::byte>(v >> 8);
    p_[3] = static_cast<std::byte>(v);
    p_ += 4;
  }
  void varint(std::uint32_t v) {
    do {
      auto b = static_cast<std::uint8_t>(v & 0x7F);
      v >>= 7;
      if (v != 0) b |= 0x80;
      *p_++ = static_cast<std::byte>(b);
    } while (v != 0);
  }
  void raw(const void* data, std::size_t n) {
    if (n != 0) std::memcpy(p_, data, n);
    p_ += n;
  }
  void raw(Bytes b) { raw(b.data(), b.size()); }
  // Two-byte length prefix + bytes (the caller has checked n <= 65535).
  void string(std::string_view s) {
    u16(static_cast<std::uint16_t>(s.size()));
    raw(s.data(), s.size());
  }
  void binary(Bytes b) {
    u16(static_cast<std::uint16_t>(b.size()));
    raw(b.data(), b.size());
  }

 private:
  std::byte* p_;
};

}  // namespace shardmq::core
