// Encoding packets into caller-provided buffers. Nothing allocates: size a buffer with
// encoded_size(), then encode(). encode_publish_header() is the broker's fan-out path: it
// writes everything of a PUBLISH but the payload, so one payload buffer serves every
// subscriber (append it, or send it as a second iovec).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/mqtt_types.hpp"
#include "core/packets.hpp"
#include "core/result.hpp"

namespace shardmq::core {

enum class EncodeError : std::uint8_t {
  BufferTooSmall,  // out is smaller than encoded_size()
  PacketTooLarge,  // remaining length over 268435455
  FieldTooLong,    // a string or binary field over 65535 bytes
  NotInVersion,    // AUTH below MQTT 5
};
std::string_view encode_error_name(EncodeError e);

// Exact number of bytes encode() writes (CONNECT uses Connect::version, not `version`).
std::size_t encoded_size(const Packet& p, ProtocolVersion version);

// Writes the packet at the start of out; returns the bytes written.
Result<std::size_t, EncodeError> encode(const Packet& p, ProtocolVersion version,
                                        std::span<std::byte> out);

// A PUBLISH as one subscriber receives it, without its payload.
struct PublishHeader {
  std::string_view topic;  // may be empty in MQTT 5 when properties carry a Topic Alias
  QoS qos = QoS::AtMostOnce;
  bool dup = false;
  bool retain = false;
  std::uint16_t packet_id = 0;             // written for QoS 1/2 only
  const Properties* properties = nullptr;  // MQTT 5 only; nullptr = none
};

// Size of the header encode_publish_header() writes for a payload of payload_size bytes.
std::size_t publish_header_size(const PublishHeader& h, std::size_t payload_size,
                                ProtocolVersion version);
// Fixed header (remaining length counts the payload) + topic + packet id + properties.
Result<std::size_t, EncodeError> encode_publish_header(const PublishHeader& h,
                                                       std::size_t payload_size,
                                                       ProtocolVersion version,
                                                       std::span<std::byte> out);

// Bytes a variable byte integer takes (1..4).
constexpr std::size_t varint_size(std::uint32_t v) {
  return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

}  // namespace shardmq::core
