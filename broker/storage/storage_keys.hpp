// The keys of the store. One byte names the kind; client identifiers go with a 16-bit
// length first, so that one client's keys form a range that no other client's key falls in
// (an identifier may hold any byte, '/' included):
//   i <len:be16><client><id:be16>    a QoS 2 packet id it received (PUBREC sent), not released
//   m <id:be64>                      a message, stored once however many sessions hold it
//   q <len:be16><client><seq:be64>   one session's queued or in-flight message
//   r <topic>                        a retained message
//   s <client>                       a persistent session
//   u <len:be16><client><filter>     one of its subscriptions
//   w <client>                       its will (as CONNECT gave it, Will Delay included)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shardmq::broker::storage_keys {

inline constexpr char kInbound = 'i';
inline constexpr char kMessage = 'm';
inline constexpr char kQueued = 'q';
inline constexpr char kRetained = 'r';
inline constexpr char kSession = 's';
inline constexpr char kSubscription = 'u';
inline constexpr char kWill = 'w';

std::string inbound(std::string_view client, std::uint16_t packet_id);
std::string inbound_prefix(std::string_view client);
std::string message(std::uint64_t id);
std::string queued(std::string_view client, std::uint64_t seq);
std::string queued_prefix(std::string_view client);
std::string retained(std::string_view topic);
std::string session(std::string_view client);
std::string subscription(std::string_view client, std::string_view filter);
std::string subscription_prefix(std::string_view client);
std::string will(std::string_view client);
// The first key after every key that starts with `prefix`.
std::string prefix_end(std::string prefix);

// A key taken apart; nullopt for one that does not parse.
struct ClientKey {
  std::string_view client;
  std::string_view rest;  // the filter, the 8 bytes of the sequence number or the 2 of the id
};
std::optional<ClientKey> parse_client_key(std::string_view key);  // i, q and u keys
std::optional<std::uint64_t> parse_be64(std::string_view eight_bytes);
std::optional<std::uint16_t> parse_be16(std::string_view two_bytes);

}  // namespace shardmq::broker::storage_keys
