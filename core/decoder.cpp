// Frame splitting, dispatch by packet type, and the message-path packets (PUBLISH, the
// acknowledgements, PING, DISCONNECT, AUTH).
#include "core/decoder.hpp"

#include "core/frame_tail.hpp"
#include "core/packet_decoders.hpp"
#include "core/property_codec.hpp"
#include "core/topic_validation.hpp"
#include "core/utf8.hpp"

namespace shardmq::core {

namespace decoding {

DecodeError utf8_string(WireReader& r, std::string_view& s) {
  if (!r.string(s)) return DecodeError::Truncated;
  return utf8_check(s);
}

DecodeError utf8_check(std::string_view s) {
  switch (check_mqtt_utf8(s)) {
    case Utf8Status::Ok:
      return DecodeError::Ok;
    case Utf8Status::NullCharacter:
      return DecodeError::Utf8NullCharacter;
    default:
      return DecodeError::InvalidUtf8;
  }
}

DecodeError topic_name(std::string_view topic) {
  switch (check_topic_name(topic)) {
    case TopicStatus::Ok:
      return DecodeError::Ok;
    case TopicStatus::Empty:
      return DecodeError::EmptyTopicName;
    default:
      return DecodeError::WildcardInTopicName;
  }
}

DecodeError nonzero_packet_id(WireReader& r, std::uint16_t& id) {
  if (!r.u16(id)) return DecodeError::Truncated;
  return id == 0 ? DecodeError::ZeroPacketId : DecodeError::Ok;
}

namespace {

DecodeError publish(WireReader& r, std::uint8_t flags, const DecodeOptions& opts, Packet& out) {
  // A Publish already in `out` (a connection decodes every packet into one scratch Packet)
  // is reused. Its 360 bytes of properties are cleared only when the last decode found some:
  // the decoder sets `raw` whenever it sets any property. Clearing them for every PUBLISH
  // was a tenth of the broker's CPU per message.
  Publish* reused = std::get_if<Publish>(&out);
  Publish& p = reused ? *reused : out.emplace<Publish>();
  if (reused) {
    const Properties& old = p.properties;
    if (!old.raw.empty() || !old.user_properties.empty() || !old.subscription_identifiers.empty())
      p.properties = Properties{};
    p.topic = {};
    p.payload = {};
    p.packet_id = 0;
  }
  unsigned qos = (flags >> 1) & 3u;
  if (qos == 3) return DecodeError::InvalidQoS;
  p.qos = static_cast<QoS>(qos);
  p.dup = (flags & 8u) != 0;
  p.retain = (flags & 1u) != 0;
  if (p.dup && qos == 0) return DecodeError::DupWithQoS0;
  if (!r.string(p.topic)) return DecodeError::Truncated;
  const bool plain = is_plain_topic(p.topic);
  if (!plain) {
    if (DecodeError e = utf8_check(p.topic); e != DecodeError::Ok) return e;
  }
  if (qos != 0) {
    if (DecodeError e = nonzero_packet_id(r, p.packet_id); e != DecodeError::Ok) return e;
  }
  if (opts.version == ProtocolVersion::v5) {
    DecodeError e = read_properties(r, PropertyContext::Publish, p.properties);
    if (e != DecodeError::Ok) return e;
    if (opts.is_server && p.properties.raw_subscription_id_count != 0) {
      return DecodeError::SubscriptionIdFromClient;
    }
    // An empty topic is how MQTT 5 uses an established Topic Alias.
    if (p.topic.empty() && p.properties.topic_alias) {
      p.payload = r.rest();
      return DecodeError::Ok;
    }
  }
  if (!plain || p.topic.empty()) {
    if (DecodeError e = topic_name(p.topic); e != DecodeError::Ok) return e;
  }
  p.payload = r.rest();
  return DecodeError::Ok;
}

// PUBACK, PUBREC, PUBREL, PUBCOMP: id, then in MQTT 5 an optional reason code and
// optional properties.
template <typename Ack>
DecodeError ack(WireReader& r, PacketType type, ProtocolVersion v, Packet& out) {
  auto& a = out.emplace<Ack>();
  if (DecodeError e = nonzero_packet_id(r, a.packet_id); e != DecodeError::Ok) return e;
  if (v != ProtocolVersion::v5 || r.empty()) return end_of_packet(r);
  std::uint8_t code = 0;
  (void)r.u8(code);
  if (!reason_code_allowed(type, code)) return DecodeError::InvalidReasonCode;
  a.reason_code = static_cast<ReasonCode>(code);
  if (r.empty()) return DecodeError::Ok;
  auto ctx = static_cast<PropertyContext>(type);
  if (DecodeError e = read_properties(r, ctx, a.properties); e != DecodeError::Ok) return e;
  return end_of_packet(r);
}

// DISCONNECT and AUTH (MQTT 5): optional reason code, optional properties.
template <typename P>
DecodeError reason_and_properties(WireReader& r, PacketType type, ProtocolVersion v, Packet& out) {
  auto& p = out.emplace<P>();
  if (v != ProtocolVersion::v5 || r.empty()) return end_of_packet(r);
  std::uint8_t code = 0;
  (void)r.u8(code);
  if (!reason_code_allowed(type, code)) return DecodeError::InvalidReasonCode;
  p.reason_code = static_cast<ReasonCode>(code);
  if (r.empty()) return DecodeError::Ok;
  auto ctx = static_cast<PropertyContext>(type);
  if (DecodeError e = read_properties(r, ctx, p.properties); e != DecodeError::Ok) return e;
  return end_of_packet(r);
}

// Which packets each side may receive (bit = packet type).
constexpr unsigned kToServer = (1u << 1) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) |
                               (1u << 7) | (1u << 8) | (1u << 10) | (1u << 12) | (1u << 14) |
                               (1u << 15);
constexpr unsigned kToClient = (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) |
                               (1u << 7) | (1u << 9) | (1u << 11) | (1u << 13) | (1u << 14) |
                               (1u << 15);

}  // namespace
}  // namespace decoding

Result<FrameInfo, DecodeError> peek_frame(std::span<const std::byte> buf,
                                          std::uint32_t max_packet_size) {
  if (buf.size() < 2) return FrameInfo{};
  WireReader r(buf.subspan(1));
  std::uint32_t len = 0;
  switch (r.varint(len)) {
    case VarintStatus::Ok:
      break;
    case VarintStatus::Truncated:
      return FrameInfo{};
    case VarintStatus::TooLong:
      return unexpected(DecodeError::RemainingLengthTooLong);
    case VarintStatus::NonMinimal:
      return unexpected(DecodeError::MalformedVarint);
  }
  std::size_t header = 1 + static_cast<std::size_t>(r.position() - (buf.data() + 1));
  std::size_t total = header + len;
  if (total > max_packet_size) return unexpected(DecodeError::PacketTooLarge);
  return FrameInfo{header, total};
}

DecodeError decode_frame(std::span<const std::byte> frame, std::size_t header_size,
                         const DecodeOptions& opts, Packet& out) {
  using namespace decoding;
  auto first = static_cast<std::uint8_t>(frame[0]);
  unsigned type = first >> 4;
  std::uint8_t flags = first & 0x0F;
  WireReader r(frame.subspan(header_size));
  ProtocolVersion v = opts.version;

  if (type == 0 || (type == 15 && v != ProtocolVersion::v5)) {
    return DecodeError::ReservedPacketType;
  }
  if (((opts.is_server ? kToServer : kToClient) & (1u << type)) == 0) {
    return DecodeError::PacketTypeNotAllowed;
  }
  auto pt = static_cast<PacketType>(type);
  if (pt == PacketType::Publish) return publish(r, flags, opts, out);
  bool needs_0010 =
      pt == PacketType::PubRel || pt == PacketType::Subscribe || pt == PacketType::Unsubscribe;
  if (flags != (needs_0010 ? 2 : 0)) return DecodeError::InvalidFixedHeaderFlags;

  switch (pt) {
    case PacketType::Connect:
      return decoding::connect(r, out);
    case PacketType::ConnAck:
      return connack(r, v, out);
    case PacketType::PubAck:
      return ack<PubAck>(r, pt, v, out);
    case PacketType::PubRec:
      return ack<PubRec>(r, pt, v, out);
    case PacketType::PubRel:
      return ack<PubRel>(r, pt, v, out);
    case PacketType::PubComp:
      return ack<PubComp>(r, pt, v, out);
    case PacketType::Subscribe:
      return subscribe(r, v, opts.check_subscribe_filters, out);
    case PacketType::SubAck:
      return suback(r, v, out);
    case PacketType::Unsubscribe:
      return unsubscribe(r, v, out);
    case PacketType::UnsubAck:
      return unsuback(r, v, out);
    case PacketType::PingReq:
      out.emplace<PingReq>();
      return end_of_packet(r);
    case PacketType::PingResp:
      out.emplace<PingResp>();
      return end_of_packet(r);
    case PacketType::Disconnect: {
      DecodeError e = reason_and_properties<Disconnect>(r, pt, v, out);
      // Only a client sends Session Expiry Interval in DISCONNECT.
      if (e == DecodeError::Ok && !opts.is_server &&
          std::get<Disconnect>(out).properties.session_expiry_interval) {
        return DecodeError::PropertyNotAllowed;
      }
      return e;
    }
    case PacketType::Auth:
      return reason_and_properties<Auth>(r, pt, v, out);
    default:
      return DecodeError::ReservedPacketType;
  }
}

DecodeError decode_packet_into(std::span<const std::byte> buf, const DecodeOptions& opts,
                               Decoded& out) {
  auto frame = peek_frame(buf, opts.max_packet_size);
  if (!frame) return frame.error();
  out.consumed = 0;
  if (frame->header_size == 0) {
    out.needed = buf.size() + 1;
    return DecodeError::Ok;
  }
  if (frame->total_size > buf.size()) {
    out.needed = frame->total_size;
    return DecodeError::Ok;
  }
  DecodeError e = decode_frame(buf.first(frame->total_size), frame->header_size, opts, out.packet);
  if (e != DecodeError::Ok) return e;
  out.consumed = frame->total_size;
  out.needed = frame->total_size;
  return DecodeError::Ok;
}

Result<Decoded, DecodeError> decode_packet(std::span<const std::byte> buf,
                                           const DecodeOptions& opts) {
  Decoded d;
  DecodeError e = decode_packet_into(buf, opts, d);
  if (e != DecodeError::Ok) return unexpected(e);
  return d;
}

Result<std::size_t, DecodeError> fill_frame_tail(std::vector<std::byte>& tail,
                                                 std::span<const std::byte>& data,
                                                 std::uint32_t max_packet_size) {
  for (;;) {
    auto frame = peek_frame(tail, max_packet_size);
    if (!frame) return unexpected(frame.error());
    if (frame->header_size == 0) {
      // Header still incomplete: take one byte at a time so we never over-read.
      if (data.empty()) return std::size_t{0};
      tail.push_back(data.front());
      data = data.subspan(1);
      continue;
    }
    std::size_t need = frame->total_size - tail.size();
    std::size_t take = need < data.size() ? need : data.size();
    tail.insert(tail.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
    data = data.subspan(take);
    return tail.size() == frame->total_size ? frame->total_size : std::size_t{0};
  }
}

Result<std::size_t, DecodeError> StreamDecoder::fill_tail(std::span<const std::byte>& data) {
  return fill_frame_tail(tail_, data, opts_.max_packet_size);
}

void StreamDecoder::after_packet(const Packet& p) {
  if (opts_.is_server) {
    if (const auto* c = std::get_if<Connect>(&p)) opts_.version = c->version;
  }
}

}  // namespace shardmq::core
