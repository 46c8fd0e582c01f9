// SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK decoding.
#include "core/packet_decoders.hpp"
#include "core/property_codec.hpp"
#include "core/topic_validation.hpp"

namespace shardmq::core::decoding {

namespace {

DecodeError topic_filter(WireReader& r, std::string_view& f, bool check = true) {
  if (DecodeError e = utf8_string(r, f); e != DecodeError::Ok) return e;
  if (!check) return DecodeError::Ok;
  switch (check_topic_filter(f)) {
    case TopicStatus::Ok:
      return DecodeError::Ok;
    case TopicStatus::InvalidShared:
      return DecodeError::InvalidSharedSubscription;
    default:
      return DecodeError::InvalidTopicFilter;
  }
}

DecodeError id_and_properties(WireReader& r, ProtocolVersion v, PropertyContext ctx,
                              std::uint16_t& id, Properties& props) {
  if (DecodeError e = nonzero_packet_id(r, id); e != DecodeError::Ok) return e;
  if (v != ProtocolVersion::v5) return DecodeError::Ok;
  return read_properties(r, ctx, props);
}

bool suback_code_allowed(ProtocolVersion v, std::uint8_t code) {
  if (v == ProtocolVersion::v5) return reason_code_allowed(PacketType::SubAck, code);
  return code <= 2 || code == 0x80;
}

}  // namespace

DecodeError subscribe(WireReader& r, ProtocolVersion v, bool check_filters, Packet& out) {
  auto& s = out.emplace<Subscribe>();
  DecodeError e = id_and_properties(r, v, PropertyContext::Subscribe, s.packet_id, s.properties);
  if (e != DecodeError::Ok) return e;
  if (r.empty()) return DecodeError::EmptySubscriptionList;
  while (!r.empty()) {
    Subscription sub;
    if (e = topic_filter(r, sub.topic_filter, check_filters); e != DecodeError::Ok) return e;
    std::uint8_t opts = 0;
    if (!r.u8(opts)) return DecodeError::Truncated;
    std::uint8_t reserved = v == ProtocolVersion::v5 ? 0xC0 : 0xFC;
    if (opts & reserved) return DecodeError::InvalidSubscriptionOptions;
    if ((opts & 3u) == 3) return DecodeError::InvalidQoS;
    sub.max_qos = static_cast<QoS>(opts & 3u);
    sub.no_local = (opts & 0x04) != 0;
    sub.retain_as_published = (opts & 0x08) != 0;
    unsigned rh = (opts >> 4) & 3u;
    if (rh == 3) return DecodeError::InvalidSubscriptionOptions;
    sub.retain_handling = static_cast<RetainHandling>(rh);
    if (sub.no_local && split_shared_filter(sub.topic_filter).is_shared()) {
      return DecodeError::NoLocalOnSharedSubscription;
    }
    s.subscriptions.push_back(sub);
  }
  return DecodeError::Ok;
}

DecodeError suback(WireReader& r, ProtocolVersion v, Packet& out) {
  auto& s = out.emplace<SubAck>();
  DecodeError e = id_and_properties(r, v, PropertyContext::SubAck, s.packet_id, s.properties);
  if (e != DecodeError::Ok) return e;
  if (r.empty()) return DecodeError::EmptyReasonCodeList;
  std::uint8_t code = 0;
  while (r.u8(code)) {
    if (!suback_code_allowed(v, code)) return DecodeError::InvalidReasonCode;
    s.reason_codes.push_back(static_cast<ReasonCode>(code));
  }
  return DecodeError::Ok;
}

DecodeError unsubscribe(WireReader& r, ProtocolVersion v, Packet& out) {
  auto& u = out.emplace<Unsubscribe>();
  DecodeError e = id_and_properties(r, v, PropertyContext::Unsubscribe, u.packet_id, u.properties);
  if (e != DecodeError::Ok) return e;
  if (r.empty()) return DecodeError::EmptyUnsubscriptionList;
  while (!r.empty()) {
    std::string_view f;
    if (e = topic_filter(r, f); e != DecodeError::Ok) return e;
    u.topic_filters.push_back(f);
  }
  return DecodeError::Ok;
}

DecodeError unsuback(WireReader& r, ProtocolVersion v, Packet& out) {
  auto& u = out.emplace<UnsubAck>();
  DecodeError e = id_and_properties(r, v, PropertyContext::UnsubAck, u.packet_id, u.properties);
  if (e != DecodeError::Ok) return e;
  if (v != ProtocolVersion::v5) return end_of_packet(r);
  if (r.empty()) return DecodeError::EmptyReasonCodeList;
  std::uint8_t code = 0;
  while (r.u8(code)) {
    if (!reason_code_allowed(PacketType::UnsubAck, code)) return DecodeError::InvalidReasonCode;
    u.reason_codes.push_back(static_cast<ReasonCode>(code));
  }
  return DecodeError::Ok;
}

}  // namespace shardmq::core::decoding
