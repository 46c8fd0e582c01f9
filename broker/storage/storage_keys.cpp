#include "broker/storage/storage_keys.hpp"

namespace shardmq::broker::storage_keys {

namespace {

void put_be64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

std::string client_prefix(char kind, std::string_view client) {
  std::string k;
  k.reserve(3 + client.size() + 8);
  k.push_back(kind);
  k.push_back(static_cast<char>((client.size() >> 8) & 0xFF));
  k.push_back(static_cast<char>(client.size() & 0xFF));
  k.append(client);
  return k;
}

}  // namespace

std::string inbound(std::string_view client, std::uint16_t packet_id) {
  std::string k = client_prefix(kInbound, client);
  k.push_back(static_cast<char>(packet_id >> 8));
  k.push_back(static_cast<char>(packet_id & 0xFF));
  return k;
}

std::string inbound_prefix(std::string_view client) {
  return client_prefix(kInbound, client);
}

std::string message(std::uint64_t id) {
  std::string k(1, kMessage);
  put_be64(k, id);
  return k;
}

std::string queued(std::string_view client, std::uint64_t seq) {
  std::string k = client_prefix(kQueued, client);
  put_be64(k, seq);
  return k;
}

std::string queued_prefix(std::string_view client) {
  return client_prefix(kQueued, client);
}

std::string retained(std::string_view topic) {
  std::string k(1, kRetained);
  k.append(topic);
  return k;
}

std::string session(std::string_view client) {
  std::string k(1, kSession);
  k.append(client);
  return k;
}

std::string subscription(std::string_view client, std::string_view filter) {
  std::string k = client_prefix(kSubscription, client);
  k.append(filter);
  return k;
}

std::string subscription_prefix(std::string_view client) {
  return client_prefix(kSubscription, client);
}

std::string will(std::string_view client) {
  std::string k(1, kWill);
  k.append(client);
  return k;
}

std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last != 0xFF) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;  // every byte 0xFF: no end short of the whole key space
}

std::optional<ClientKey> parse_client_key(std::string_view key) {
  if (key.size() < 3) return std::nullopt;
  const std::size_t n =
      (std::size_t(static_cast<unsigned char>(key[1])) << 8) | static_cast<unsigned char>(key[2]);
  if (key.size() < 3 + n) return std::nullopt;
  return ClientKey{key.substr(3, n), key.substr(3 + n)};
}

std::optional<std::uint64_t> parse_be64(std::string_view b) {
  if (b.size() != 8) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : b)
    v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

std::optional<std::uint16_t> parse_be16(std::string_view b) {
  if (b.size() != 2) return std::nullopt;
  return static_cast<std::uint16_t>((static_cast<unsigned char>(b[0]) << 8) |
                                    static_cast<unsigned char>(b[1]));
}

}  // namespace shardmq::broker::storage_keys
