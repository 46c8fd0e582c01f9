// ClientName: a client's identifier and, when it gave one, its user name, held through one
// pointer to [16-bit id length][id][16-bit user length or 0xFFFF: none][user]. Connections
// and sessions keep both by the million (the user name is what access checks ask about) at
// the inline cost of one pointer, as CompactString does for one string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

namespace shardmq::broker {

class ClientName {
 public:
  static constexpr std::size_t kMaxSize = 65535;

  ClientName() = default;
  explicit ClientName(std::string_view id, std::optional<std::string_view> user = std::nullopt) {
    assign(id, user);
  }
  ClientName(const ClientName& o) { assign(o.view(), o.username()); }
  ClientName& operator=(const ClientName& o) {
    if (this != &o) assign(o.view(), o.username());
    return *this;
  }
  ClientName(ClientName&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  ClientName& operator=(ClientName&& o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~ClientName() { std::free(p_); }

  // Longer input is cut at kMaxSize (MQTT strings never are longer). The views may point
  // into this name's own bytes: the new block is filled before the old one is freed.
  void assign(std::string_view id, std::optional<std::string_view> user = std::nullopt) {
    char* fresh = nullptr;
    if (!id.empty() || user) {
      const auto n = clip(id.size());
      const std::uint16_t u = user ? clip(user->size()) : kNoUser;
      const std::size_t user_bytes = user ? u : 0;
      fresh = static_cast<char*>(std::malloc(4 + n + user_bytes));
      if (!fresh) std::abort();
      std::memcpy(fresh, &n, 2);
      std::memcpy(fresh + 2, id.data(), n);
      std::memcpy(fresh + 2 + n, &u, 2);
      if (user_bytes) std::memcpy(fresh + 4 + n, user->data(), user_bytes);
    }
    std::free(p_);
    p_ = fresh;
  }

  bool empty() const { return id_size() == 0; }  // no client identifier
  std::string_view view() const {
    return p_ ? std::string_view(p_ + 2, id_size()) : std::string_view();
  }
  operator std::string_view() const { return view(); }
  // The user name from CONNECT (or the certificate); nullopt for an anonymous client.
  std::optional<std::string_view> username() const {
    if (!p_) return std::nullopt;
    const std::size_t n = id_size();
    std::uint16_t u;
    std::memcpy(&u, p_ + 2 + n, 2);
    if (u == kNoUser) return std::nullopt;
    return std::string_view(p_ + 4 + n, u);
  }

 private:
  static constexpr std::uint16_t kNoUser = 0xFFFF;
  // One less than the MQTT maximum for the user name, so the length never reads as "none".
  static std::uint16_t clip(std::size_t n) {
    return static_cast<std::uint16_t>(n < kMaxSize ? n : kMaxSize - 1);
  }
  std::size_t id_size() const {
    if (!p_) return 0;
    std::uint16_t n;
    std::memcpy(&n, p_, 2);
    return n;
  }

  char* p_ = nullptr;
};

}  // namespace shardmq::broker
