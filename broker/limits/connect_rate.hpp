// limits.max_connect_rate: CONNECTs per second from one source address, a token bucket of
// limits.max_connect_burst each. Kept per shard (no lock), as the failed-login counts are:
// the kernel spreads one address's connections over the shards, so an address may connect
// up to rate x shards a second. Bounded: past kMaxAddresses the full buckets (addresses
// that have been quiet long enough to hold nothing) are forgotten first.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "broker/containers/string_key_hash.hpp"
#include "broker/limits/token_bucket.hpp"

namespace shardmq::broker {

class ConnectRate {
 public:
  static constexpr std::size_t kMaxAddresses = 65536;

  // Whether `address` may connect now (and counts it); always true with a rate of 0.
  bool allow(std::string_view address, std::uint64_t now_ms, std::uint32_t rate,
             std::uint32_t burst) {
    if (rate == 0 || address.empty()) return true;
    const std::uint64_t cap = TokenBucket::burst_or_default(rate, burst);
    auto it = by_address_.find(address);
    if (it == by_address_.end()) {
      if (by_address_.size() >= kMaxAddresses) forget_idle(now_ms, rate, cap);
      it = by_address_.emplace(std::string(address), TokenBucket{}).first;
    }
    return it->second.try_take(1, now_ms, rate, cap);
  }

  std::size_t size() const { return by_address_.size(); }

 private:
  void forget_idle(std::uint64_t now_ms, std::uint32_t rate, std::uint64_t cap) {
    std::erase_if(by_address_, [&](const auto& kv) { return kv.second.full(now_ms, rate, cap); });
    if (by_address_.size() >= kMaxAddresses) by_address_.clear();  // a flood of addresses
  }

  std::unordered_map<std::string, TokenBucket, StringKeyHash, std::equal_to<>> by_address_;
};

}  // namespace shardmq::broker
