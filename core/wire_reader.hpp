// Bounds-checked reading of MQTT wire primitives from a byte span. Each read returns false
// (and leaves the reader unchanged) when the field would run past the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/mqtt_types.hpp"

namespace shardmq::core {

// NonMinimal: more bytes than the value needs, which MQTT forbids.
enum class VarintStatus : std::uint8_t { Ok, Truncated, TooLong, NonMinimal };

class WireReader {
 public:
  explicit WireReader(std::span<const std::byte> b) : p_(b.data()), end_(b.data() + b.size()) {}

  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  bool empty() const { return p_ == end_; }
  const std::byte* position() const { return p_; }

  bool u8(std::uint8_t& v) {
    if (p_ == end_) return false;
    v = static_cast<std::uint8_t>(*p_++);
    return true;
  }
  bool u16(std::uint16_t& v) {
    if (remaining() < 2) return false;
    v = static_cast<std::uint16_t>((static_cast<unsigned>(p_[0]) << 8) |
                                   static_cast<unsigned>(p_[1]));
    p_ += 2;
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (remaining() < 4) return false;
    v = (static_cast<std::uint32_t>(p_[0]) << 24) | (static_cast<std::uint32_t>(p_[1]) << 16) |
        (static_cast<std::uint32_t>(p_[2]) << 8) | static_cast<std::uint32_t>(p_[3]);
    p_ += 4;
    return true;
  }
  VarintStatus varint(std::uint32_t& v) {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      if (p_ + i == end_) return VarintStatus::Truncated;
      auto b = static_cast<std::uint32_t>(p_[i]);
      value |= (b & 0x7F) << (7 * i);
      if ((b & 0x80) == 0) {
        if (b == 0 && i != 0) return VarintStatus::NonMinimal;
        p_ += i + 1;
        v = value;
        return VarintStatus::Ok;
      }
    }
    return VarintStatus::TooLong;
  }
  // Two-byte length then that many bytes; no UTF-8 check here (see utf8.hpp).
  bool string(std::string_view& s) {
    Bytes b;
    if (!binary(b)) return false;
    s = as_string_view(b);
    return true;
  }
  bool binary(Bytes& b) {
    if (remaining() < 2) return false;
    std::size_t n = (static_cast<std::size_t>(p_[0]) << 8) | static_cast<std::size_t>(p_[1]);
    if (remaining() - 2 < n) return false;
    b = Bytes(p_ + 2, n);
    p_ += 2 + n;
    return true;
  }
  bool bytes(std::size_t n, Bytes& b) {
    if (remaining() < n) return false;
    b = Bytes(p_, n);
    p_ += n;
    return true;
  }
  Bytes rest() const { return Bytes(p_, remaining()); }

 private:
  const std::byte* p_;
  const std::byte* end_;
};

}  // namespace shardmq::core
