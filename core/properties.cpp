// MQTT 5 property blocks: which packet allows which property, decoding with validation,
// sizing and encoding.
#include <array>

#include "core/encoder.hpp"
#include "core/packet_decoders.hpp"
#include "core/property_codec.hpp"
#include "core/topic_validation.hpp"
#include "core/utf8.hpp"

namespace shardmq::core {

namespace {

constexpr std::uint32_t ctx_bit(PropertyContext c) {
  return 1u << static_cast<unsigned>(c);
}
constexpr std::uint32_t kAckContexts =
    ctx_bit(PropertyContext::PubAck) | ctx_bit(PropertyContext::PubRec) |
    ctx_bit(PropertyContext::PubRel) | ctx_bit(PropertyContext::PubComp);
constexpr std::uint32_t kMessage =
    ctx_bit(PropertyContext::Publish) | ctx_bit(PropertyContext::Will);
constexpr std::uint32_t kAll =
    0x1FFFEu & ~(ctx_bit(PropertyContext::PingReq) | ctx_bit(PropertyContext::PingResp));

// MQTT 5.0 §2.2.2.2: property identifier -> contexts where it may appear.
constexpr std::array<std::uint32_t, 0x2B> kAllowed = [] {
  using C = PropertyContext;
  std::array<std::uint32_t, 0x2B> a{};
  a[0x01] = kMessage;
  a[0x02] = kMessage;
  a[0x03] = kMessage;
  a[0x08] = kMessage;
  a[0x09] = kMessage;
  a[0x0B] = ctx_bit(C::Publish) | ctx_bit(C::Subscribe);
  a[0x11] = ctx_bit(C::Connect) | ctx_bit(C::ConnAck) | ctx_bit(C::Disconnect);
  a[0x12] = ctx_bit(C::ConnAck);
  a[0x13] = ctx_bit(C::ConnAck);
  a[0x15] = ctx_bit(C::Connect) | ctx_bit(C::ConnAck) | ctx_bit(C::Auth);
  a[0x16] = a[0x15];
  a[0x17] = ctx_bit(C::Connect);
  a[0x18] = ctx_bit(C::Will);
  a[0x19] = ctx_bit(C::Connect);
  a[0x1A] = ctx_bit(C::ConnAck);
  a[0x1C] = ctx_bit(C::ConnAck) | ctx_bit(C::Disconnect);
  a[0x1F] = ctx_bit(C::ConnAck) | kAckContexts | ctx_bit(C::SubAck) | ctx_bit(C::UnsubAck) |
            ctx_bit(C::Disconnect) | ctx_bit(C::Auth);
  a[0x21] = ctx_bit(C::Connect) | ctx_bit(C::ConnAck);
  a[0x22] = a[0x21];
  a[0x23] = ctx_bit(C::Publish);
  a[0x24] = ctx_bit(C::ConnAck);
  a[0x25] = ctx_bit(C::ConnAck);
  a[0x26] = kAll;
  a[0x27] = ctx_bit(C::Connect) | ctx_bit(C::ConnAck);
  a[0x28] = ctx_bit(C::ConnAck);
  a[0x29] = ctx_bit(C::ConnAck);
  a[0x2A] = ctx_bit(C::ConnAck);
  return a;
}();

DecodeError check_utf8(std::string_view s) {
  return decoding::utf8_check(s);
}

DecodeError varint_error(VarintStatus s) {
  return s == VarintStatus::Truncated ? DecodeError::Truncated : DecodeError::MalformedVarint;
}

DecodeError read_byte_flag(WireReader& r, std::optional<std::uint8_t>& out, std::uint8_t max) {
  std::uint8_t v = 0;
  if (!r.u8(v)) return DecodeError::Truncated;
  if (v > max) return DecodeError::InvalidPropertyValue;
  out = v;
  return DecodeError::Ok;
}
DecodeError read_u16(WireReader& r, std::optional<std::uint16_t>& out, bool nonzero) {
  std::uint16_t v = 0;
  if (!r.u16(v)) return DecodeError::Truncated;
  if (nonzero && v == 0) return DecodeError::InvalidPropertyValue;
  out = v;
  return DecodeError::Ok;
}
DecodeError read_u32(WireReader& r, std::optional<std::uint32_t>& out, bool nonzero) {
  std::uint32_t v = 0;
  if (!r.u32(v)) return DecodeError::Truncated;
  if (nonzero && v == 0) return DecodeError::InvalidPropertyValue;
  out = v;
  return DecodeError::Ok;
}
DecodeError read_str(WireReader& r, std::optional<std::string_view>& out) {
  std::string_view s;
  if (!r.string(s)) return DecodeError::Truncated;
  out = s;
  return check_utf8(s);
}
DecodeError read_bin(WireReader& r, std::optional<Bytes>& out) {
  Bytes b;
  if (!r.binary(b)) return DecodeError::Truncated;
  out = b;
  return DecodeError::Ok;
}

DecodeError read_one(WireReader& r, std::uint8_t id, Properties& p) {
  switch (id) {
    case 0x01:
      return read_byte_flag(r, p.payload_format_indicator, 1);
    case 0x02:
      return read_u32(r, p.message_expiry_interval, false);
    case 0x03:
      return read_str(r, p.content_type);
    case 0x08: {
      DecodeError e = read_str(r, p.response_topic);
      if (e == DecodeError::Ok && has_wildcard(*p.response_topic)) {
        return DecodeError::InvalidPropertyValue;
      }
      return e;
    }
    case 0x09:
      return read_bin(r, p.correlation_data);
    case 0x0B: {
      const std::byte* start = r.position();
      std::uint32_t v = 0;
      VarintStatus st = r.varint(v);
      if (st != VarintStatus::Ok) return varint_error(st);
      if (v == 0) return DecodeError::InvalidPropertyValue;
      p.raw_subscription_id_bytes += static_cast<std::uint32_t>(1 + (r.position() - start));
      ++p.raw_subscription_id_count;
      return DecodeError::Ok;
    }
    case 0x11:
      return read_u32(r, p.session_expiry_interval, false);
    case 0x12:
      return read_str(r, p.assigned_client_identifier);
    case 0x13:
      return read_u16(r, p.server_keep_alive, false);
    case 0x15:
      return read_str(r, p.authentication_method);
    case 0x16:
      return read_bin(r, p.authentication_data);
    case 0x17:
      return read_byte_flag(r, p.request_problem_information, 1);
    case 0x18:
      return read_u32(r, p.will_delay_interval, false);
    case 0x19:
      return read_byte_flag(r, p.request_response_information, 1);
    case 0x1A:
      return read_str(r, p.response_information);
    case 0x1C:
      return read_str(r, p.server_reference);
    case 0x1F:
      return read_str(r, p.reason_string);
    case 0x21:
      return read_u16(r, p.receive_maximum, true);
    case 0x22:
      return read_u16(r, p.topic_alias_maximum, false);
    case 0x23:
      if (DecodeError e = read_u16(r, p.topic_alias, false); e != DecodeError::Ok) return e;
      return *p.topic_alias == 0 ? DecodeError::TopicAliasZero : DecodeError::Ok;
    case 0x24:
      return read_byte_flag(r, p.maximum_qos, 1);
    case 0x25:
      return read_byte_flag(r, p.retain_available, 1);
    case 0x26: {
      StringPair kv;
      if (!r.string(kv.name) || !r.string(kv.value)) return DecodeError::Truncated;
      if (DecodeError e = check_utf8(kv.name); e != DecodeError::Ok) return e;
      if (DecodeError e = check_utf8(kv.value); e != DecodeError::Ok) return e;
      p.raw_user_property_bytes += static_cast<std::uint32_t>(5 + kv.name.size() + kv.value.size());
      ++p.raw_user_property_count;
      return DecodeError::Ok;
    }
    case 0x27:
      return read_u32(r, p.maximum_packet_size, true);
    case 0x28:
      return read_byte_flag(r, p.wildcard_subscription_available, 1);
    case 0x29:
      return read_byte_flag(r, p.subscription_identifier_available, 1);
    case 0x2A:
      return read_byte_flag(r, p.shared_subscription_available, 1);
    default:
      return DecodeError::UnknownProperty;
  }
}

// Skips one property value in a validated block.
void skip_value(WireReader& r, std::uint8_t id) {
  Bytes skip;
  if (int n = detail::fixed_property_value_size(id); n != 0) {
    (void)r.bytes(static_cast<std::size_t>(n), skip);
  } else if (id == 0x0B) {
    std::uint32_t v = 0;
    (void)r.varint(v);
  } else if (id == 0x26) {
    (void)r.binary(skip);
    (void)r.binary(skip);
  } else {
    (void)r.binary(skip);
  }
}

std::size_t str_size(const std::optional<std::string_view>& s) {
  return s ? 3 + s->size() : 0;
}
std::size_t bin_size(const std::optional<Bytes>& b) {
  return b ? 3 + b->size() : 0;
}
template <typename T>
std::size_t num_size(const std::optional<T>& v) {
  return v ? 1 + sizeof(T) : 0;
}

void put(WireWriter& w, PropertyId id) {
  w.u8(static_cast<std::uint8_t>(id));
}

}  // namespace

bool property_allowed(PropertyContext ctx, PropertyId id) {
  auto i = static_cast<std::size_t>(id);
  return i < kAllowed.size() && (kAllowed[i] & ctx_bit(ctx)) != 0;
}

std::string_view property_name(PropertyId id) {
  switch (id) {
    case PropertyId::PayloadFormatIndicator:
      return "Payload Format Indicator";
    case PropertyId::MessageExpiryInterval:
      return "Message Expiry Interval";
    case PropertyId::ContentType:
      return "Content Type";
    case PropertyId::ResponseTopic:
      return "Response Topic";
    case PropertyId::CorrelationData:
      return "Correlation Data";
    case PropertyId::SubscriptionIdentifier:
      return "Subscription Identifier";
    case PropertyId::SessionExpiryInterval:
      return "Session Expiry Interval";
    case PropertyId::AssignedClientIdentifier:
      return "Assigned Client Identifier";
    case PropertyId::ServerKeepAlive:
      return "Server Keep Alive";
    case PropertyId::AuthenticationMethod:
      return "Authentication Method";
    case PropertyId::AuthenticationData:
      return "Authentication Data";
    case PropertyId::RequestProblemInformation:
      return "Request Problem Information";
    case PropertyId::WillDelayInterval:
      return "Will Delay Interval";
    case PropertyId::RequestResponseInformation:
      return "Request Response Information";
    case PropertyId::ResponseInformation:
      return "Response Information";
    case PropertyId::ServerReference:
      return "Server Reference";
    case PropertyId::ReasonString:
      return "Reason String";
    case PropertyId::ReceiveMaximum:
      return "Receive Maximum";
    case PropertyId::TopicAliasMaximum:
      return "Topic Alias Maximum";
    case PropertyId::TopicAlias:
      return "Topic Alias";
    case PropertyId::MaximumQoS:
      return "Maximum QoS";
    case PropertyId::RetainAvailable:
      return "Retain Available";
    case PropertyId::UserProperty:
      return "User Property";
    case PropertyId::MaximumPacketSize:
      return "Maximum Packet Size";
    case PropertyId::WildcardSubscriptionAvailable:
      return "Wildcard Subscription Available";
    case PropertyId::SubscriptionIdentifierAvailable:
      return "Subscription Identifier Available";
    case PropertyId::SharedSubscriptionAvailable:
      return "Shared Subscription Available";
  }
  return "Unknown";
}

DecodeError read_properties(WireReader& r, PropertyContext ctx, Properties& p) {
  std::uint32_t len = 0;
  VarintStatus st = r.varint(len);
  if (st != VarintStatus::Ok) return varint_error(st);
  Bytes block;
  if (!r.bytes(len, block)) return DecodeError::Truncated;
  if (len == 0) return DecodeError::Ok;
  p.raw = block;
  WireReader pr(block);
  std::uint64_t seen = 0;
  while (!pr.empty()) {
    std::uint8_t id = 0;
    (void)pr.u8(id);
    if (id >= kAllowed.size() || kAllowed[id] == 0) return DecodeError::UnknownProperty;
    if ((kAllowed[id] & ctx_bit(ctx)) == 0) return DecodeError::PropertyNotAllowed;
    // User Property repeats freely; Subscription Identifier repeats only in PUBLISH.
    bool repeats = id == 0x26 || (id == 0x0B && ctx == PropertyContext::Publish);
    std::uint64_t bit = std::uint64_t{1} << id;
    if (!repeats && (seen & bit) != 0) return DecodeError::DuplicateProperty;
    seen |= bit;
    if (DecodeError e = read_one(pr, id, p); e != DecodeError::Ok) return e;
  }
  if (p.authentication_data && !p.authentication_method) {
    return DecodeError::AuthDataWithoutMethod;
  }
  return DecodeError::Ok;
}

std::size_t properties_content_size(const Properties& p) {
  std::size_t n =
      num_size(p.payload_format_indicator) + num_size(p.message_expiry_interval) +
      str_size(p.content_type) + str_size(p.response_topic) + bin_size(p.correlation_data) +
      num_size(p.session_expiry_interval) + str_size(p.assigned_client_identifier) +
      num_size(p.server_keep_alive) + str_size(p.authentication_method) +
      bin_size(p.authentication_data) + num_size(p.request_problem_information) +
      num_size(p.will_delay_interval) + num_size(p.request_response_information) +
      str_size(p.response_information) + str_size(p.server_reference) + str_size(p.reason_string) +
      num_size(p.receive_maximum) + num_size(p.topic_alias_maximum) + num_size(p.topic_alias) +
      num_size(p.maximum_qos) + num_size(p.retain_available) + num_size(p.maximum_packet_size) +
      num_size(p.wildcard_subscription_available) + num_size(p.subscription_identifier_available) +
      num_size(p.shared_subscription_available);
  n += p.raw_user_property_bytes + p.raw_subscription_id_bytes;
  for (const StringPair& kv : p.user_properties)
    n += 5 + kv.name.size() + kv.value.size();
  for (std::uint32_t id : p.subscription_identifiers)
    n += 1 + varint_size(id);
  return n;
}

std::size_t properties_block_size(const Properties& p) {
  std::size_t n = properties_content_size(p);
  return varint_size(static_cast<std::uint32_t>(n)) + n;
}

bool properties_fit(const Properties& p) {
  constexpr std::size_t kMax = 65535;
  auto ok_s = [](const std::optional<std::string_view>& s) { return !s || s->size() <= kMax; };
  auto ok_b = [](const std::optional<Bytes>& b) { return !b || b->size() <= kMax; };
  if (!ok_s(p.content_type) || !ok_s(p.response_topic) || !ok_b(p.correlation_data) ||
      !ok_s(p.assigned_client_identifier) || !ok_s(p.authentication_method) ||
      !ok_b(p.authentication_data) || !ok_s(p.response_information) || !ok_s(p.server_reference) ||
      !ok_s(p.reason_string)) {
    return false;
  }
  for (const StringPair& kv : p.user_properties) {
    if (kv.name.size() > kMax || kv.value.size() > kMax) return false;
  }
  for (std::uint32_t id : p.subscription_identifiers) {
    if (id > kMaxRemainingLength) return false;
  }
  return true;
}

void write_properties(WireWriter& w, const Properties& p) {
  w.varint(static_cast<std::uint32_t>(properties_content_size(p)));
  auto u8 = [&](PropertyId id, const std::optional<std::uint8_t>& v) {
    if (v) put(w, id), w.u8(*v);
  };
  auto u16 = [&](PropertyId id, const std::optional<std::uint16_t>& v) {
    if (v) put(w, id), w.u16(*v);
  };
  auto u32 = [&](PropertyId id, const std::optional<std::uint32_t>& v) {
    if (v) put(w, id), w.u32(*v);
  };
  auto str = [&](PropertyId id, const std::optional<std::string_view>& v) {
    if (v) put(w, id), w.string(*v);
  };
  auto bin = [&](PropertyId id, const std::optional<Bytes>& v) {
    if (v) put(w, id), w.binary(*v);
  };
  using P = PropertyId;
  u8(P::PayloadFormatIndicator, p.payload_format_indicator);
  u32(P::MessageExpiryInterval, p.message_expiry_interval);
  str(P::ContentType, p.content_type);
  str(P::ResponseTopic, p.response_topic);
  bin(P::CorrelationData, p.correlation_data);
  u32(P::SessionExpiryInterval, p.session_expiry_interval);
  str(P::AssignedClientIdentifier, p.assigned_client_identifier);
  u16(P::ServerKeepAlive, p.server_keep_alive);
  str(P::AuthenticationMethod, p.authentication_method);
  bin(P::AuthenticationData, p.authentication_data);
  u8(P::RequestProblemInformation, p.request_problem_information);
  u32(P::WillDelayInterval, p.will_delay_interval);
  u8(P::RequestResponseInformation, p.request_response_information);
  str(P::ResponseInformation, p.response_information);
  str(P::ServerReference, p.server_reference);
  str(P::ReasonString, p.reason_string);
  u16(P::ReceiveMaximum, p.receive_maximum);
  u16(P::TopicAliasMaximum, p.topic_alias_maximum);
  u16(P::TopicAlias, p.topic_alias);
  u8(P::MaximumQoS, p.maximum_qos);
  u8(P::RetainAvailable, p.retain_available);
  u32(P::MaximumPacketSize, p.maximum_packet_size);
  u8(P::WildcardSubscriptionAvailable, p.wildcard_subscription_available);
  u8(P::SubscriptionIdentifierAvailable, p.subscription_identifier_available);
  u8(P::SharedSubscriptionAvailable, p.shared_subscription_available);
  // Repeating properties of a decoded packet, copied byte for byte in their order.
  if (p.raw_user_property_count + p.raw_subscription_id_count != 0) {
    WireReader r(p.raw);
    while (!r.empty()) {
      const std::byte* start = r.position();
      std::uint8_t id = 0;
      (void)r.u8(id);
      skip_value(r, id);
      if (id == 0x26 || id == 0x0B) {
        w.raw(start, static_cast<std::size_t>(r.position() - start));
      }
    }
  }
  for (const StringPair& kv : p.user_properties) {
    put(w, P::UserProperty);
    w.string(kv.name);
    w.string(kv.value);
  }
  for (std::uint32_t id : p.subscription_identifiers) {
    put(w, P::SubscriptionIdentifier);
    w.varint(id);
  }
}

void copy_properties_without(Bytes raw, PropertyId id, std::string& out) {
  out.clear();
  WireReader r(raw);
  while (!r.empty()) {
    const std::size_t start = raw.size() - r.remaining();
    std::uint8_t pid = 0;
    if (!r.u8(pid)) return;
    Bytes skip;
    std::string_view a, b;
    std::uint32_t v = 0;
    bool ok = true;
    if (int n = detail::fixed_property_value_size(pid); n != 0)
      ok = r.bytes(static_cast<std::size_t>(n), skip);
    else if (pid == 0x0B)
      ok = r.varint(v) == VarintStatus::Ok;
    else if (pid == 0x26)
      ok = r.string(a) && r.string(b);
    else
      ok = r.binary(skip);  // strings and binary data alike
    if (!ok) return;
    if (pid == static_cast<std::uint8_t>(id)) continue;
    const std::size_t end = raw.size() - r.remaining();
    out.append(reinterpret_cast<const char*>(raw.data()) + start, end - start);
  }
}

}  // namespace shardmq::core
