// MQTT vocabulary shared by the codec and the broker: protocol levels, packet types,
// QoS, MQTT 5 reason codes and the MQTT 3.x CONNACK return codes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace shardmq::core {

// The protocol level byte of CONNECT. 3 is MQTT 3.1 ("MQIsdp"), 4 is 3.1.1, 5 is 5.0.
enum class ProtocolVersion : std::uint8_t { v31 = 3, v311 = 4, v5 = 5 };

// Fixed-header packet type (high nibble of the first byte).
enum class PacketType : std::uint8_t {
  Connect = 1,
  ConnAck = 2,
  Publish = 3,
  PubAck = 4,
  PubRec = 5,
  PubRel = 6,
  PubComp = 7,
  Subscribe = 8,
  SubAck = 9,
  Unsubscribe = 10,
  UnsubAck = 11,
  PingReq = 12,
  PingResp = 13,
  Disconnect = 14,
  Auth = 15,
};

enum class QoS : std::uint8_t { AtMostOnce = 0, AtLeastOnce = 1, ExactlyOnce = 2 };

// Every MQTT 5 reason code. Several share the value 0x00 (and 0x01/0x02 for SUBACK):
// their meaning depends on the packet that carries them.
enum class ReasonCode : std::uint8_t {
  Success = 0x00,
  NormalDisconnection = 0x00,
  GrantedQoS0 = 0x00,
  GrantedQoS1 = 0x01,
  GrantedQoS2 = 0x02,
  DisconnectWithWillMessage = 0x04,
  NoMatchingSubscribers = 0x10,
  NoSubscriptionExisted = 0x11,
  ContinueAuthentication = 0x18,
  ReAuthenticate = 0x19,
  UnspecifiedError = 0x80,
  MalformedPacket = 0x81,
  ProtocolError = 0x82,
  ImplementationSpecificError = 0x83,
  UnsupportedProtocolVersion = 0x84,
  ClientIdentifierNotValid = 0x85,
  BadUserNameOrPassword = 0x86,
  NotAuthorized = 0x87,
  ServerUnavailable = 0x88,
  ServerBusy = 0x89,
  Banned = 0x8A,
  ServerShuttingDown = 0x8B,
  BadAuthenticationMethod = 0x8C,
  KeepAliveTimeout = 0x8D,
  SessionTakenOver = 0x8E,
  TopicFilterInvalid = 0x8F,
  TopicNameInvalid = 0x90,
  PacketIdentifierInUse = 0x91,
  PacketIdentifierNotFound = 0x92,
  ReceiveMaximumExceeded = 0x93,
  TopicAliasInvalid = 0x94,
  PacketTooLarge = 0x95,
  MessageRateTooHigh = 0x96,
  QuotaExceeded = 0x97,
  AdministrativeAction = 0x98,
  PayloadFormatInvalid = 0x99,
  RetainNotSupported = 0x9A,
  QoSNotSupported = 0x9B,
  UseAnotherServer = 0x9C,
  ServerMoved = 0x9D,
  SharedSubscriptionsNotSupported = 0x9E,
  ConnectionRateExceeded = 0x9F,
  MaximumConnectTime = 0xA0,
  SubscriptionIdentifiersNotSupported = 0xA1,
  WildcardSubscriptionsNotSupported = 0xA2,
};

// MQTT 3.1/3.1.1 CONNACK return codes (a CONNACK decoded at level 3/4 carries one of these
// in ConnAck::reason_code, cast to ReasonCode).
enum class ConnectReturnCode : std::uint8_t {
  Accepted = 0,
  UnacceptableProtocolVersion = 1,
  IdentifierRejected = 2,
  ServerUnavailable = 3,
  BadUserNameOrPassword = 4,
  NotAuthorized = 5,
};

// Name of a reason code ("Success", "Malformed Packet", ...); 0x00..0x02 get their
// generic names. Unknown values give "Unknown".
std::string_view reason_code_name(ReasonCode rc);
// The same, named as the spec names it in a packet of `type`: 0x00 is "Normal
// disconnection" in DISCONNECT and "Granted QoS 0" in SUBACK.
std::string_view reason_code_name(ReasonCode rc, PacketType type);

// Whether an MQTT 5 reason code may appear in a packet of this type (CONNACK, PUBACK,
// PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH).
bool reason_code_allowed(PacketType type, std::uint8_t code);

// Maps an MQTT 5 CONNACK reason code to the closest MQTT 3.x return code, so the broker
// can pick one refusal reason for every protocol level.
ConnectReturnCode connect_return_code_for(ReasonCode rc);

// Binary data (payloads, passwords, correlation/authentication data) as a view.
using Bytes = std::span<const std::byte>;

inline Bytes as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string_view as_string_view(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Largest value of the fixed header's Remaining Length (4 varint bytes).
inline constexpr std::uint32_t kMaxRemainingLength = 268'435'455;
// Largest whole packet: 1 type byte + 4 length bytes + the largest remaining length.
inline constexpr std::uint32_t kMaxPacketSize = kMaxRemainingLength + 5;

}  // namespace shardmq::core
