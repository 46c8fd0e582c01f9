// One struct per MQTT control packet, for every protocol level. Decoded strings, binary
// data and payloads are views into the decoder's input buffer: they stay valid only as long
// as that buffer. MQTT 5-only fields (properties, reason codes) are ignored when encoding
// for 3.1/3.1.1 and left at their defaults when decoding those levels.
//
// SUBSCRIBE/UNSUBSCRIBE/SUBACK/UNSUBACK keep their lists in std::vector: they are rare
// (not on the message path), and a vector is what callers iterate and build most easily.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "core/mqtt_types.hpp"
#include "core/properties.hpp"

namespace shardmq::core {

struct Will {
  QoS qos = QoS::AtMostOnce;
  bool retain = false;
  std::string_view topic;
  Bytes payload;
  Properties properties;  // MQTT 5 Will properties
};

struct Connect {
  // CONNECT carries its own level; it is encoded with this one, whatever version the
  // encoder is given. Protocol name follows: "MQIsdp" for v31, "MQTT" otherwise.
  ProtocolVersion version = ProtocolVersion::v311;
  bool clean_start = true;  // Clean Session in 3.1/3.1.1
  std::uint16_t keep_alive = 60;
  std::string_view client_id;
  std::optional<Will> will;
  std::optional<std::string_view> username;
  std::optional<Bytes> password;
  Properties properties;
};

struct ConnAck {
  bool session_present = false;
  // MQTT 5 reason code; at level 3/4 a ConnectReturnCode (0..5) cast to ReasonCode.
  ReasonCode reason_code = ReasonCode::Success;
  Properties properties;
};

struct Publish {
  std::string_view topic;
  Bytes payload;
  QoS qos = QoS::AtMostOnce;
  bool retain = false;
  bool dup = false;
  std::uint16_t packet_id = 0;  // only for QoS 1 and 2
  Properties properties;
};

// The four acknowledgements of the QoS 1/2 flows share one shape.
struct PubAck {
  std::uint16_t packet_id = 0;
  ReasonCode reason_code = ReasonCode::Success;
  Properties properties;
};
struct PubRec {
  std::uint16_t packet_id = 0;
  ReasonCode reason_code = ReasonCode::Success;
  Properties properties;
};
struct PubRel {
  std::uint16_t packet_id = 0;
  ReasonCode reason_code = ReasonCode::Success;
  Properties properties;
};
struct PubComp {
  std::uint16_t packet_id = 0;
  ReasonCode reason_code = ReasonCode::Success;
  Properties properties;
};

// Retain Handling of a subscription (MQTT 5).
enum class RetainHandling : std::uint8_t {
  SendOnSubscribe = 0,
  SendIfNewSubscription = 1,
  DoNotSend = 2,
};

struct Subscription {
  std::string_view topic_filter;  // as sent, including any "$share/group/" prefix
  QoS max_qos = QoS::AtMostOnce;
  bool no_local = false;                                             // MQTT 5
  bool retain_as_published = false;                                  // MQTT 5
  RetainHandling retain_handling = RetainHandling::SendOnSubscribe;  // MQTT 5
};

struct Subscribe {
  std::uint16_t packet_id = 0;
  Properties properties;
  std::vector<Subscription> subscriptions;
};

struct SubAck {
  std::uint16_t packet_id = 0;
  Properties properties;
  // GrantedQoS0/1/2 or a failure (0x80, and in MQTT 5 the other SUBACK codes).
  std::vector<ReasonCode> reason_codes;
};

struct Unsubscribe {
  std::uint16_t packet_id = 0;
  Properties properties;
  std::vector<std::string_view> topic_filters;
};

struct UnsubAck {
  std::uint16_t packet_id = 0;
  Properties properties;
  std::vector<ReasonCode> reason_codes;  // MQTT 5 only; empty at level 3/4
};

struct PingReq {};
struct PingResp {};

struct Disconnect {
  ReasonCode reason_code = ReasonCode::NormalDisconnection;  // MQTT 5
  Properties properties;
};

struct Auth {
  ReasonCode reason_code = ReasonCode::Success;
  Properties properties;
};

// Alternative index + 1 == PacketType value.
using Packet = std::variant<Connect, ConnAck, Publish, PubAck, PubRec, PubRel, PubComp, Subscribe,
                            SubAck, Unsubscribe, UnsubAck, PingReq, PingResp, Disconnect, Auth>;

inline PacketType packet_type(const Packet& p) {
  return static_cast<PacketType>(p.index() + 1);
}
std::string_view packet_type_name(PacketType t);

}  // namespace shardmq::core
