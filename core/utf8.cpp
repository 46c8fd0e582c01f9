// MQTT UTF-8 validation with an 8-byte ASCII fast path (topics are nearly always ASCII).
#include "core/utf8.hpp"

#include <cstring>

namespace shardmq::core {

Utf8Status check_mqtt_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p != end) {
    if (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      // No high bit and no zero byte in any of the 8: all plain ASCII, skip them.
      constexpr std::uint64_t kLow = 0x0101010101010101ULL;
      constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
      if (((w | ((w - kLow) & ~w)) & kHigh) == 0) {
        p += 8;
        continue;
      }
    }
    unsigned c = *p;
    if (c < 0x80) {
      if (c == 0) return Utf8Status::NullCharacter;
      ++p;
      continue;
    }
    int extra;
    unsigned cp;
    unsigned min;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return Utf8Status::IllFormed;
    }
    if (end - p <= extra) return Utf8Status::IllFormed;
    for (int i = 1; i <= extra; ++i) {
      unsigned cc = p[i];
      if ((cc & 0xC0) != 0x80) return Utf8Status::IllFormed;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return Utf8Status::IllFormed;
    }
    p += extra + 1;
  }
  return Utf8Status::Ok;
}

}  // namespace shardmq::core
