// Why a packet was refused. Every value is a distinct rule; reason_code() gives the MQTT 5
// reason code a server (or client) sends in its CONNACK/DISCONNECT before closing.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/mqtt_types.hpp"

namespace shardmq::core {

enum class DecodeError : std::uint8_t {
  Ok = 0,                       // not an error (decode_into's success value)
  RemainingLengthTooLong,       // 0x81 more than 4 varint bytes
  PacketTooLarge,               // 0x95 over DecodeOptions::max_packet_size
  ReservedPacketType,           // 0x81 type 0, or AUTH (15) before MQTT 5
  PacketTypeNotAllowed,         // 0x82 sent in the wrong direction (e.g. CONNACK to a server)
  InvalidFixedHeaderFlags,      // 0x81 reserved flag bits wrong
  InvalidQoS,                   // 0x81 QoS 3 (PUBLISH, Will, subscription)
  DupWithQoS0,                  // 0x81 DUP set on a QoS 0 PUBLISH
  ZeroPacketId,                 // 0x82 packet identifier 0 where one is required
  Truncated,                    // 0x81 a field runs past the end of the packet
  TrailingBytes,                // 0x81 bytes left over inside the packet
  InvalidUtf8,                  // 0x81 ill-formed UTF-8, overlong, or a surrogate
  Utf8NullCharacter,            // 0x81 U+0000 in a UTF-8 string
  MalformedVarint,              // 0x81 a variable byte integer over 4 bytes
  EmptyTopicName,               // 0x90 empty topic (and, in MQTT 5, no Topic Alias)
  WildcardInTopicName,          // 0x90 '+' or '#' in a PUBLISH/Will topic
  InvalidTopicFilter,           // 0x8F e.g. "a/b#", "#/a", "a+/b", ""
  InvalidSharedSubscription,    // 0x8F "$share/" without group/filter, or bad group
  EmptySubscriptionList,        // 0x82 SUBSCRIBE without a topic filter
  EmptyUnsubscriptionList,      // 0x82 UNSUBSCRIBE without a topic filter
  EmptyReasonCodeList,          // 0x81 SUBACK/UNSUBACK (5.0) without reason codes
  InvalidSubscriptionOptions,   // 0x81 reserved bits or Retain Handling 3
  NoLocalOnSharedSubscription,  // 0x82 No Local on a $share subscription
  UnknownProperty,              // 0x81 property identifier not defined
  PropertyNotAllowed,           // 0x81 property not valid for this packet
  DuplicateProperty,            // 0x82 a once-only property repeated
  InvalidPropertyValue,         // 0x82 e.g. Receive Maximum 0, Maximum QoS 2
  TopicAliasZero,               // 0x94 Topic Alias 0 (Mosquitto 2.0.11: 0x81)
  SubscriptionIdFromClient,     // 0x82 Subscription Identifier in a client's PUBLISH
  AuthDataWithoutMethod,        // 0x82 Authentication Data without Authentication Method
  InvalidReasonCode,            // 0x81 reason/return code not defined for this packet
  UnknownProtocolName,          // 0x84 not "MQTT" / "MQIsdp"
  ProtocolNameLevelMismatch,    // 0x84 "MQIsdp" with level != 3, "MQTT" with level 3
  UnsupportedProtocolVersion,   // 0x84 level other than 3, 4, 5
  ConnectReservedFlag,          // 0x81 CONNECT flags bit 0 set
  PasswordWithoutUsername,      // 0x81 password flag without user name flag (3.1/3.1.1)
  WillFlagsWithoutWill,         // 0x81 Will QoS/Retain set with Will Flag clear
  ConnAckReservedFlags,         // 0x81 CONNACK acknowledge flags bits 7..1 set
};

ReasonCode reason_code(DecodeError e);
std::string_view decode_error_name(DecodeError e);

}  // namespace shardmq::core
