// The values of the store (keys: storage_keys.hpp), in a small binary form: integers
// little-endian, strings with a 32-bit length. A value that does not parse reads as
// nullopt/nullptr, never as a half-filled record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "broker/message/published_message.hpp"
#include "broker/session/subscription.hpp"

namespace shardmq::broker::storage_records {

// m/ and r/: a message. Its MQTT 5 Message Expiry is kept as a wall-clock deadline, so the
// time the broker was down counts.
std::string encode_message(const PublishedMessage& m);
// A new message (one reference) or nullptr; `expired` says whether its deadline passed.
PublishedMessage* decode_message(std::string_view v, bool* expired);

// q/: one session's entry for a message.
struct QueueEntry {
  std::uint64_t message_id = 0;
  std::uint8_t qos = 1;
  std::uint16_t packet_id = 0;        // 0: queued; else in flight
  bool released = false;              // QoS 2: PUBREC received, PUBREL sent
  bool retain = false;                // sent with the retain flag (retain as published)
  std::uint32_t subscription_id = 0;  // MQTT 5 Subscription Identifier it goes with (0: none)
};
std::string encode_entry(const QueueEntry& e);
std::optional<QueueEntry> decode_entry(std::string_view v);

// s/: a persistent session.
struct SessionRecord {
  std::uint32_t expiry_s = 0;
  std::optional<std::string> username;
};
std::string encode_session(const SessionRecord& s);
std::optional<SessionRecord> decode_session(std::string_view v);

// u/: a subscription's options.
std::string encode_options(const SubscriptionOptions& o);
std::optional<SubscriptionOptions> decode_options(std::string_view v);

}  // namespace shardmq::broker::storage_records
