// Builds a Properties with every property a context allows, and compares two Properties
// field by field (repeating properties through their iteration API).
#pragma once

#include <utility>
#include <vector>

#include "codec_test_support.hpp"

namespace codec_test {

inline const StringPair kUserProps[] = {{"k1", "v1"}, {"k2", "v\xC3\xA9"}, {"k1", "again"}};
inline const std::uint32_t kSubIds[] = {1, 268435455};
inline const std::uint32_t kOneSubId[] = {16384};

inline Properties all_properties(PropertyContext ctx) {
  Properties p;
  auto allowed = [&](PropertyId id) { return property_allowed(ctx, id); };
  using P = PropertyId;
  if (allowed(P::PayloadFormatIndicator)) p.payload_format_indicator = 1;
  if (allowed(P::MessageExpiryInterval)) p.message_expiry_interval = 3600;
  if (allowed(P::ContentType)) p.content_type = "application/json";
  if (allowed(P::ResponseTopic)) p.response_topic = "reply/here";
  if (allowed(P::CorrelationData))
    p.correlation_data = as_bytes(std::string_view("\x00\x01\x02", 3));
  if (allowed(P::SessionExpiryInterval)) p.session_expiry_interval = 0xFFFFFFFF;
  if (allowed(P::AssignedClientIdentifier)) p.assigned_client_identifier = "auto-1";
  if (allowed(P::ServerKeepAlive)) p.server_keep_alive = 30;
  if (allowed(P::AuthenticationMethod)) p.authentication_method = "SCRAM-SHA-1";
  if (allowed(P::AuthenticationData)) p.authentication_data = as_bytes("secret");
  if (allowed(P::RequestProblemInformation)) p.request_problem_information = 0;
  if (allowed(P::WillDelayInterval)) p.will_delay_interval = 5;
  if (allowed(P::RequestResponseInformation)) p.request_response_information = 1;
  if (allowed(P::ResponseInformation)) p.response_information = "resp/";
  if (allowed(P::ServerReference)) p.server_reference = "other:1883";
  if (allowed(P::ReasonString)) p.reason_string = "because";
  if (allowed(P::ReceiveMaximum)) p.receive_maximum = 100;
  if (allowed(P::TopicAliasMaximum)) p.topic_alias_maximum = 10;
  if (allowed(P::TopicAlias)) p.topic_alias = 3;
  if (allowed(P::MaximumQoS)) p.maximum_qos = 1;
  if (allowed(P::RetainAvailable)) p.retain_available = 0;
  if (allowed(P::MaximumPacketSize)) p.maximum_packet_size = 1 << 20;
  if (allowed(P::WildcardSubscriptionAvailable)) p.wildcard_subscription_available = 1;
  if (allowed(P::SubscriptionIdentifierAvailable)) p.subscription_identifier_available = 0;
  if (allowed(P::SharedSubscriptionAvailable)) p.shared_subscription_available = 1;
  if (allowed(P::UserProperty)) p.user_properties = kUserProps;
  if (allowed(P::SubscriptionIdentifier)) {
    if (ctx == PropertyContext::Publish) {
      p.subscription_identifiers = kSubIds;
    } else {
      p.subscription_identifiers = kOneSubId;
    }
  }
  return p;
}

inline std::vector<std::pair<std::string_view, std::string_view>> user_props_of(
    const Properties& p) {
  std::vector<std::pair<std::string_view, std::string_view>> v;
  p.for_each_user_property([&](const StringPair& kv) { v.emplace_back(kv.name, kv.value); });
  return v;
}

inline std::vector<std::uint32_t> sub_ids_of(const Properties& p) {
  std::vector<std::uint32_t> v;
  p.for_each_subscription_identifier([&](std::uint32_t id) { v.push_back(id); });
  return v;
}

inline std::optional<std::string_view> bin_sv(const std::optional<Bytes>& b) {
  if (!b) return std::nullopt;
  return as_string_view(*b);
}

inline void require_same_properties(const Properties& a, const Properties& b) {
  CHECK(a.payload_format_indicator == b.payload_format_indicator);
  CHECK(a.message_expiry_interval == b.message_expiry_interval);
  CHECK(a.content_type == b.content_type);
  CHECK(a.response_topic == b.response_topic);
  CHECK(bin_sv(a.correlation_data) == bin_sv(b.correlation_data));
  CHECK(a.session_expiry_interval == b.session_expiry_interval);
  CHECK(a.assigned_client_identifier == b.assigned_client_identifier);
  CHECK(a.server_keep_alive == b.server_keep_alive);
  CHECK(a.authentication_method == b.authentication_method);
  CHECK(bin_sv(a.authentication_data) == bin_sv(b.authentication_data));
  CHECK(a.request_problem_information == b.request_problem_information);
  CHECK(a.will_delay_interval == b.will_delay_interval);
  CHECK(a.request_response_information == b.request_response_information);
  CHECK(a.response_information == b.response_information);
  CHECK(a.server_reference == b.server_reference);
  CHECK(a.reason_string == b.reason_string);
  CHECK(a.receive_maximum == b.receive_maximum);
  CHECK(a.topic_alias_maximum == b.topic_alias_maximum);
  CHECK(a.topic_alias == b.topic_alias);
  CHECK(a.maximum_qos == b.maximum_qos);
  CHECK(a.retain_available == b.retain_available);
  CHECK(a.maximum_packet_size == b.maximum_packet_size);
  CHECK(a.wildcard_subscription_available == b.wildcard_subscription_available);
  CHECK(a.subscription_identifier_available == b.subscription_identifier_available);
  CHECK(a.shared_subscription_available == b.shared_subscription_available);
  CHECK(user_props_of(a) == user_props_of(b));
  CHECK(sub_ids_of(a) == sub_ids_of(b));
}

}  // namespace codec_test
