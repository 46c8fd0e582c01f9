// Reason codes and names of decode errors.
#include "core/decode_error.hpp"

namespace shardmq::core {

ReasonCode reason_code(DecodeError e) {
  switch (e) {
    case DecodeError::Ok:
      return ReasonCode::Success;
    case DecodeError::PacketTooLarge:
      return ReasonCode::PacketTooLarge;
    case DecodeError::PacketTypeNotAllowed:
    case DecodeError::ZeroPacketId:
    case DecodeError::EmptySubscriptionList:
    case DecodeError::EmptyUnsubscriptionList:
    case DecodeError::NoLocalOnSharedSubscription:
    case DecodeError::DuplicateProperty:
    case DecodeError::InvalidPropertyValue:
    case DecodeError::SubscriptionIdFromClient:
    case DecodeError::AuthDataWithoutMethod:
      return ReasonCode::ProtocolError;
    case DecodeError::EmptyTopicName:
    case DecodeError::WildcardInTopicName:
      return ReasonCode::TopicNameInvalid;
    case DecodeError::TopicAliasZero:
      return ReasonCode::TopicAliasInvalid;
    case DecodeError::InvalidTopicFilter:
    case DecodeError::InvalidSharedSubscription:
      return ReasonCode::TopicFilterInvalid;
    case DecodeError::UnknownProtocolName:
    case DecodeError::ProtocolNameLevelMismatch:
    case DecodeError::UnsupportedProtocolVersion:
      return ReasonCode::UnsupportedProtocolVersion;
    default:
      return ReasonCode::MalformedPacket;
  }
}

std::string_view decode_error_name(DecodeError e) {
  switch (e) {
    case DecodeError::Ok:
      return "ok";
    case DecodeError::RemainingLengthTooLong:
      return "remaining length over 4 bytes";
    case DecodeError::PacketTooLarge:
      return "packet too large";
    case DecodeError::ReservedPacketType:
      return "reserved packet type";
    case DecodeError::PacketTypeNotAllowed:
      return "packet type not allowed in this direction";
    case DecodeError::InvalidFixedHeaderFlags:
      return "invalid fixed header flags";
    case DecodeError::InvalidQoS:
      return "invalid QoS";
    case DecodeError::DupWithQoS0:
      return "DUP set on QoS 0";
    case DecodeError::ZeroPacketId:
      return "packet identifier is zero";
    case DecodeError::Truncated:
      return "field truncated";
    case DecodeError::TrailingBytes:
      return "trailing bytes in packet";
    case DecodeError::InvalidUtf8:
      return "invalid UTF-8";
    case DecodeError::Utf8NullCharacter:
      return "U+0000 in UTF-8 string";
    case DecodeError::MalformedVarint:
      return "malformed variable byte integer";
    case DecodeError::EmptyTopicName:
      return "empty topic name";
    case DecodeError::WildcardInTopicName:
      return "wildcard in topic name";
    case DecodeError::InvalidTopicFilter:
      return "invalid topic filter";
    case DecodeError::InvalidSharedSubscription:
      return "invalid shared subscription";
    case DecodeError::EmptySubscriptionList:
      return "empty subscription list";
    case DecodeError::EmptyUnsubscriptionList:
      return "empty unsubscription list";
    case DecodeError::EmptyReasonCodeList:
      return "empty reason code list";
    case DecodeError::InvalidSubscriptionOptions:
      return "invalid subscription options";
    case DecodeError::NoLocalOnSharedSubscription:
      return "No Local on shared subscription";
    case DecodeError::UnknownProperty:
      return "unknown property";
    case DecodeError::PropertyNotAllowed:
      return "property not allowed on this packet";
    case DecodeError::DuplicateProperty:
      return "duplicate property";
    case DecodeError::InvalidPropertyValue:
      return "invalid property value";
    case DecodeError::TopicAliasZero:
      return "topic alias 0";
    case DecodeError::SubscriptionIdFromClient:
      return "subscription identifier from client";
    case DecodeError::AuthDataWithoutMethod:
      return "authentication data without method";
    case DecodeError::InvalidReasonCode:
      return "invalid reason code";
    case DecodeError::UnknownProtocolName:
      return "unknown protocol name";
    case DecodeError::ProtocolNameLevelMismatch:
      return "protocol name and level mismatch";
    case DecodeError::UnsupportedProtocolVersion:
      return "unsupported protocol version";
    case DecodeError::ConnectReservedFlag:
      return "CONNECT reserved flag set";
    case DecodeError::PasswordWithoutUsername:
      return "password without user name";
    case DecodeError::WillFlagsWithoutWill:
      return "will QoS/retain without will flag";
    case DecodeError::ConnAckReservedFlags:
      return "CONNACK reserved flags set";
  }
  return "unknown decode error";
}

}  // namespace shardmq::core
