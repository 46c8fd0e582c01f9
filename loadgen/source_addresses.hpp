// Which local address each client connects from. Towards one broker address and port, a
// source address offers one ephemeral port range (~28k ports by default); past that (or,
// towards loopback, past a quarter of it, to keep connect()'s port search cheap), clients are
// spread over 127.0.0.2, 127.0.0.3, ... (loopback answers for all of 127.0.0.0/8) or over
// the addresses given with --source.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace shardmq::loadgen {

class SourceAddresses {
 public:
  // total: clients across all workers. server: the broker's address.
  static Result<SourceAddresses, std::string> plan(const std::vector<std::string>& given,
                                                   std::uint64_t total, in_addr server);
  // nullopt: let the kernel choose (no bind).
  std::optional<in_addr> for_client(std::uint64_t global_index) const;
  std::size_t count() const { return addrs_.size(); }
  std::uint64_t per_address() const { return per_address_; }

 private:
  std::vector<in_addr> addrs_;
  std::uint64_t per_address_ = 0;
};

// Size of the kernel's ephemeral port range (net.ipv4.ip_local_port_range).
std::uint64_t ephemeral_ports();

}  // namespace shardmq::loadgen
