// CompactString: a string of at most 65,535 bytes (an MQTT string) held through one pointer
// to [16-bit length][bytes]. 8 bytes inline against std::string's 32, for the strings the
// broker keeps by the million: a client identifier on every connection and session. A
// 13-byte identifier costs 8 + 16 bytes; a 36-byte UUID 8 + 48 (std::string: 32 and 32 + 48).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

namespace shardmq::broker {

class CompactString {
 public:
  static constexpr std::size_t kMaxSize = 65535;

  CompactString() = default;
  // Longer input is cut at kMaxSize (MQTT strings never are longer).
  explicit CompactString(std::string_view s) { assign(s); }
  CompactString(const CompactString& o) { assign(o.view()); }
  CompactString& operator=(const CompactString& o) {
    if (this != &o) assign(o.view());
    return *this;
  }
  CompactString(CompactString&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  CompactString& operator=(CompactString&& o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~CompactString() { std::free(p_); }

  // `s` may view this string's own bytes: the new block is filled before the old is freed.
  void assign(std::string_view s) {
    char* fresh = nullptr;
    if (!s.empty()) {
      const auto n = static_cast<std::uint16_t>(s.size() < kMaxSize ? s.size() : kMaxSize);
      fresh = static_cast<char*>(std::malloc(sizeof n + n));
      if (!fresh) std::abort();
      std::memcpy(fresh, &n, sizeof n);
      std::memcpy(fresh + sizeof n, s.data(), n);
    }
    std::free(p_);
    p_ = fresh;
  }

  std::size_t size() const {
    if (!p_) return 0;
    std::uint16_t n;
    std::memcpy(&n, p_, sizeof n);
    return n;
  }
  bool empty() const { return p_ == nullptr; }
  std::string_view view() const {
    return p_ ? std::string_view(p_ + 2, size()) : std::string_view();
  }
  operator std::string_view() const { return view(); }

 private:
  char* p_ = nullptr;
};

}  // namespace shardmq::broker
