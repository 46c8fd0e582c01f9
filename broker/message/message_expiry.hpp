// MQTT 5 Message Expiry Interval (specification 3.3.2.3.3): a message the broker has held for
// longer than its interval is not sent (it is dropped from session queues, from in-flight
// resends that have not been acknowledged, and from the retained store), and a message sent
// later than it arrived carries the interval minus the time it waited, rounded up. The clock
// is the steady clock in milliseconds, the same on every shard.
//
// A message without the property costs one branch (PublishedMessage::expires) wherever it is
// sent; one with it costs a copy of its property block into a scratch buffer when it is sent
// after waiting (the 4-byte value changes per delivery, the shared message does not).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "broker/message/published_message.hpp"
#include "core/properties.hpp"
#include "io/steady_now.hpp"

namespace shardmq::broker {

inline std::uint64_t steady_now_ms() {
  return io::steady_now<std::chrono::milliseconds>();
}

// Starts the message's expiry clock at `now_ms` when its properties carry the interval.
inline void arm_message_expiry(PublishedMessage& m, std::uint64_t now_ms) {
  const std::string_view props = m.properties();
  if (props.empty()) return;
  const auto* base = reinterpret_cast<const std::byte*>(props.data());
  core::for_each_property(core::as_bytes(props), [&](core::PropertyId id, core::Bytes whole) {
    if (id != core::PropertyId::MessageExpiryInterval || whole.size() != 5) return;
    m.arm_expiry(static_cast<std::uint32_t>(whole.data() + 1 - base),
                 now_ms + std::uint64_t(core::four_byte_property_value(whole)) * 1000);
  });
}

inline bool message_expired(const PublishedMessage& m, std::uint64_t now_ms) {
  return m.expires() && now_ms >= m.expires_at_ms();
}

// The properties to send now: as received, or (for a message that expires) a copy in
// `scratch` with the interval that is left, at least 1 s (one that expired on its way to the
// connection's shard still goes: its session counts it as sent).
inline std::string_view properties_to_send(const PublishedMessage& m, std::uint64_t now_ms,
                                           std::string& scratch) {
  if (!m.expires()) return m.properties();
  const std::uint64_t left_ms = m.expires_at_ms() > now_ms ? m.expires_at_ms() - now_ms : 0;
  const auto left = std::max<std::uint32_t>(1, static_cast<std::uint32_t>((left_ms + 999) / 1000));
  scratch.assign(m.properties());
  const unsigned char value[4] = {
      static_cast<unsigned char>(left >> 24), static_cast<unsigned char>(left >> 16),
      static_cast<unsigned char>(left >> 8), static_cast<unsigned char>(left)};
  std::memcpy(scratch.data() + m.expiry_offset(), value, 4);
  return scratch;
}

}  // namespace shardmq::broker
