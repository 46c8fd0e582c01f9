// Failed logins per source address, so a client guessing passwords is refused without
// checking once it has failed `max` times within `window` seconds, until the window that
// began with its first failure has passed. Kept per shard (no lock); the kernel spreads one
// address's connections over the shards, so an address gets at most max x shards tries per
// window. Bounded: past kMaxAddresses the oldest windows are forgotten first.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "broker/containers/string_key_hash.hpp"
#include "io/steady_now.hpp"

namespace shardmq::broker {

// The clock failure windows count in: seconds that never go back.
inline std::uint64_t steady_now_s() {
  return io::steady_now<std::chrono::seconds>();
}

class LoginFailures {
 public:
  static constexpr std::size_t kMaxAddresses = 65536;

  LoginFailures(std::uint32_t max, std::uint32_t window_s) : max_(max), window_s_(window_s) {}
  // SIGHUP may change both; counts already made stay.
  void set_limits(std::uint32_t max, std::uint32_t window_s) {
    max_ = max;
    window_s_ = window_s;
  }

  bool blocked(std::string_view address, std::uint64_t now_s) const {
    if (max_ == 0) return false;
    auto it = by_address_.find(address);
    return it != by_address_.end() && now_s < it->second.since + window_s_ &&
           it->second.count >= max_;
  }

  void failed(std::string_view address, std::uint64_t now_s) {
    if (max_ == 0) return;
    if (by_address_.size() >= kMaxAddresses) forget_expired(now_s);
    auto it = by_address_.find(address);
    if (it == by_address_.end()) it = by_address_.emplace(std::string(address), Entry{}).first;
    Entry& e = it->second;
    if (e.count == 0 || now_s >= e.since + window_s_) e = Entry{now_s, 0};
    ++e.count;
  }

  std::size_t size() const { return by_address_.size(); }

 private:
  struct Entry {
    std::uint64_t since = 0;
    std::uint32_t count = 0;
  };
  void forget_expired(std::uint64_t now_s) {
    std::erase_if(by_address_,
                  [&](const auto& kv) { return now_s >= kv.second.since + window_s_; });
    if (by_address_.size() >= kMaxAddresses) by_address_.clear();  // a flood of addresses
  }

  std::uint32_t max_;
  std::uint32_t window_s_;
  // Looked up by string_view: a CONNECT asks without building a string.
  std::unordered_map<std::string, Entry, StringKeyHash, std::equal_to<>> by_address_;
};

}  // namespace shardmq::broker
