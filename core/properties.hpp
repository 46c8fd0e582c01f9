// MQTT 5 properties. Scalars that may appear once are std::optional fields; the two
// properties that may repeat (User Property, Subscription Identifier) are not copied out
// on decode: `raw` keeps a view of the decoded property block and the for_each_* calls
// walk it. For encoding, callers add their own through the two spans.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/mqtt_types.hpp"

namespace shardmq::core {

enum class PropertyId : std::uint8_t {
  PayloadFormatIndicator = 0x01,
  MessageExpiryInterval = 0x02,
  ContentType = 0x03,
  ResponseTopic = 0x08,
  CorrelationData = 0x09,
  SubscriptionIdentifier = 0x0B,
  SessionExpiryInterval = 0x11,
  AssignedClientIdentifier = 0x12,
  ServerKeepAlive = 0x13,
  AuthenticationMethod = 0x15,
  AuthenticationData = 0x16,
  RequestProblemInformation = 0x17,
  WillDelayInterval = 0x18,
  RequestResponseInformation = 0x19,
  ResponseInformation = 0x1A,
  ServerReference = 0x1C,
  ReasonString = 0x1F,
  ReceiveMaximum = 0x21,
  TopicAliasMaximum = 0x22,
  TopicAlias = 0x23,
  MaximumQoS = 0x24,
  RetainAvailable = 0x25,
  UserProperty = 0x26,
  MaximumPacketSize = 0x27,
  WildcardSubscriptionAvailable = 0x28,
  SubscriptionIdentifierAvailable = 0x29,
  SharedSubscriptionAvailable = 0x2A,
};

struct StringPair {
  std::string_view name;
  std::string_view value;
};

struct Properties {
  std::optional<std::uint8_t> payload_format_indicator;
  std::optional<std::uint32_t> message_expiry_interval;
  std::optional<std::string_view> content_type;
  std::optional<std::string_view> response_topic;
  std::optional<Bytes> correlation_data;
  std::optional<std::uint32_t> session_expiry_interval;
  std::optional<std::string_view> assigned_client_identifier;
  std::optional<std::uint16_t> server_keep_alive;
  std::optional<std::string_view> authentication_method;
  std::optional<Bytes> authentication_data;
  std::optional<std::uint8_t> request_problem_information;
  std::optional<std::uint32_t> will_delay_interval;
  std::optional<std::uint8_t> request_response_information;
  std::optional<std::string_view> response_information;
  std::optional<std::string_view> server_reference;
  std::optional<std::string_view> reason_string;
  std::optional<std::uint16_t> receive_maximum;
  std::optional<std::uint16_t> topic_alias_maximum;
  std::optional<std::uint16_t> topic_alias;
  std::optional<std::uint8_t> maximum_qos;
  std::optional<std::uint8_t> retain_available;
  std::optional<std::uint32_t> maximum_packet_size;
  std::optional<std::uint8_t> wildcard_subscription_available;
  std::optional<std::uint8_t> subscription_identifier_available;
  std::optional<std::uint8_t> shared_subscription_available;

  // Caller-supplied repeating properties, encoded after those found in `raw`.
  std::span<const StringPair> user_properties;
  std::span<const std::uint32_t> subscription_identifiers;

  // Set by the decoder only: the property block (without its length) and what the
  // repeating properties in it add up to. The encoder copies the user properties and
  // subscription identifiers found here verbatim, so a forwarded PUBLISH keeps them.
  Bytes raw;
  std::uint32_t raw_user_property_bytes = 0;  // encoded size of all User Properties in raw
  std::uint32_t raw_subscription_id_bytes = 0;
  std::uint16_t raw_user_property_count = 0;
  std::uint16_t raw_subscription_id_count = 0;

  // Calls fn(StringPair) for each user property: those in `raw`, then `user_properties`.
  template <typename F>
  void for_each_user_property(F&& fn) const;
  // Calls fn(uint32_t) for each subscription identifier: `raw`'s, then the span's.
  template <typename F>
  void for_each_subscription_identifier(F&& fn) const;

  std::size_t user_property_count() const {
    return raw_user_property_count + user_properties.size();
  }
  std::size_t subscription_identifier_count() const {
    return raw_subscription_id_count + subscription_identifiers.size();
  }
  // Drops the repeating properties copied from a decoded packet (e.g. a broker must not
  // forward a publisher's subscription identifiers).
  void clear_raw() {
    raw = {};
    raw_user_property_bytes = raw_subscription_id_bytes = 0;
    raw_user_property_count = raw_subscription_id_count = 0;
  }
};

// Where a property block sits: a packet type, or the Will properties inside CONNECT.
enum class PropertyContext : std::uint8_t {
  Connect = 1,
  ConnAck,
  Publish,
  PubAck,
  PubRec,
  PubRel,
  PubComp,
  Subscribe,
  SubAck,
  Unsubscribe,
  UnsubAck,
  PingReq,
  PingResp,
  Disconnect,
  Auth,
  Will = 16,
};

bool property_allowed(PropertyContext ctx, PropertyId id);
std::string_view property_name(PropertyId id);

// The content of a validated property block (`raw`) without the properties numbered `id`,
// into `out` (cleared first, its capacity kept): a broker forwards a PUBLISH without the
// publisher's Topic Alias.
void copy_properties_without(Bytes raw, PropertyId id, std::string& out);

// Size of the properties' content (without the leading length varint).
std::size_t properties_content_size(const Properties& p);
// Size of the whole block: length varint + content.
std::size_t properties_block_size(const Properties& p);

namespace detail {
// Walks a validated property block and calls on_user(StringPair) / on_subid(uint32_t).
template <typename U, typename S>
void walk_repeating_properties(Bytes raw, U&& on_user, S&& on_subid);
}  // namespace detail

}  // namespace shardmq::core

#include "core/properties_iteration.hpp"
