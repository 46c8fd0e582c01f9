#include "loadgen/source_addresses.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <fstream>

namespace shardmq::loadgen {

std::uint64_t ephemeral_ports() {
  std::ifstream f("/proc/sys/net/ipv4/ip_local_port_range");
  std::uint64_t lo = 32768, hi = 60999;
  f >> lo >> hi;
  return hi >= lo ? hi - lo + 1 : 0;
}

Result<SourceAddresses, std::string> SourceAddresses::plan(const std::vector<std::string>& given,
                                                           std::uint64_t total, in_addr server) {
  SourceAddresses s;
  // Leave a margin for other programs' connections and TIME_WAIT leftovers.
  std::uint64_t ports = ephemeral_ports();
  s.per_address_ = ports > 2000 ? ports - 1000 : ports;
  for (const auto& g : given) {
    in_addr a{};
    if (inet_pton(AF_INET, g.c_str(), &a) != 1) {
      return unexpected(fmt::format("--source {}: not an IPv4 address", g));
    }
    s.addrs_.push_back(a);
  }
  if (!s.addrs_.empty()) {
    if (s.addrs_.size() * s.per_address_ < total) {
      return unexpected(fmt::format("{} clients need {} source addresses at {} ports each", total,
                                    (total + s.per_address_ - 1) / s.per_address_, s.per_address_));
    }
    return s;
  }
  bool loopback = (ntohl(server.s_addr) >> 24) == 127;
  // On loopback, addresses are free: fill each one only to a quarter of its port range.
  // connect() searches the range for a free port, and that search (__inet_hash_connect)
  // grows with the share already taken: at two thirds full it cost the generator ~200 us
  // of kernel time per connection and capped the connect rate near 3,000/s.
  if (loopback && ports / 4 >= 1000) s.per_address_ = ports / 4;
  if (total <= s.per_address_) return s;  // the kernel's default source suffices
  if (!loopback) {
    return unexpected(fmt::format(
        "{} clients exceed one source address's {} ephemeral ports: pass --source ADDR ...", total,
        s.per_address_));
  }
  std::uint64_t need = (total + s.per_address_ - 1) / s.per_address_;
  for (std::uint64_t k = 0; k < need; ++k) {
    in_addr a{};
    a.s_addr = htonl((127u << 24) + 2u + static_cast<std::uint32_t>(k));
    s.addrs_.push_back(a);
  }
  return s;
}

std::optional<in_addr> SourceAddresses::for_client(std::uint64_t global_index) const {
  if (addrs_.empty()) return std::nullopt;
  std::uint64_t k = global_index / per_address_;
  return addrs_[k < addrs_.size() ? k : addrs_.size() - 1];
}

}  // namespace shardmq::loadgen
