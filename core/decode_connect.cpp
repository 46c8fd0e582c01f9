// CONNECT and CONNACK decoding: protocol name/level, connect flags, will, credentials.
#include "core/packet_decoders.hpp"
#include "core/property_codec.hpp"

namespace shardmq::core::decoding {

namespace {

DecodeError protocol_level(std::string_view name, std::uint8_t level, ProtocolVersion& v) {
  bool known_level = level >= 3 && level <= 5;
  if (name == "MQTT") {
    if (!known_level) return DecodeError::UnsupportedProtocolVersion;
    if (level == 3) return DecodeError::ProtocolNameLevelMismatch;
  } else if (name == "MQIsdp") {
    if (!known_level) return DecodeError::UnsupportedProtocolVersion;
    if (level != 3) return DecodeError::ProtocolNameLevelMismatch;
  } else {
    return DecodeError::UnknownProtocolName;
  }
  v = static_cast<ProtocolVersion>(level);
  return DecodeError::Ok;
}

}  // namespace

DecodeError connect(WireReader& r, Packet& out) {
  auto& c = out.emplace<Connect>();
  std::string_view name;
  if (!r.string(name)) return DecodeError::Truncated;
  std::uint8_t level = 0;
  if (!r.u8(level)) return DecodeError::Truncated;
  if (DecodeError e = protocol_level(name, level, c.version); e != DecodeError::Ok) return e;
  bool v5 = c.version == ProtocolVersion::v5;

  std::uint8_t flags = 0;
  if (!r.u8(flags)) return DecodeError::Truncated;
  if (flags & 0x01) return DecodeError::ConnectReservedFlag;
  c.clean_start = (flags & 0x02) != 0;
  bool will = (flags & 0x04) != 0;
  unsigned will_qos = (flags >> 3) & 3u;
  bool will_retain = (flags & 0x20) != 0;
  bool password = (flags & 0x40) != 0;
  bool username = (flags & 0x80) != 0;
  if (!will && (will_qos != 0 || will_retain)) return DecodeError::WillFlagsWithoutWill;
  if (will_qos == 3) return DecodeError::InvalidQoS;
  if (!v5 && password && !username) return DecodeError::PasswordWithoutUsername;
  if (!r.u16(c.keep_alive)) return DecodeError::Truncated;
  if (v5) {
    DecodeError e = read_properties(r, PropertyContext::Connect, c.properties);
    if (e != DecodeError::Ok) return e;
  }
  if (DecodeError e = utf8_string(r, c.client_id); e != DecodeError::Ok) return e;
  if (will) {
    Will& w = c.will.emplace();
    w.qos = static_cast<QoS>(will_qos);
    w.retain = will_retain;
    if (v5) {
      DecodeError e = read_properties(r, PropertyContext::Will, w.properties);
      if (e != DecodeError::Ok) return e;
    }
    if (DecodeError e = utf8_string(r, w.topic); e != DecodeError::Ok) return e;
    if (DecodeError e = topic_name(w.topic); e != DecodeError::Ok) return e;
    if (!r.binary(w.payload)) return DecodeError::Truncated;
  }
  if (username) {
    std::string_view u;
    if (DecodeError e = utf8_string(r, u); e != DecodeError::Ok) return e;
    c.username = u;
  }
  if (password) {
    Bytes pw;
    if (!r.binary(pw)) return DecodeError::Truncated;
    c.password = pw;
  }
  return end_of_packet(r);
}

DecodeError connack(WireReader& r, ProtocolVersion v, Packet& out) {
  auto& a = out.emplace<ConnAck>();
  std::uint8_t flags = 0;
  std::uint8_t code = 0;
  if (!r.u8(flags) || !r.u8(code)) return DecodeError::Truncated;
  if (flags & 0xFE) return DecodeError::ConnAckReservedFlags;
  a.session_present = (flags & 1) != 0;
  a.reason_code = static_cast<ReasonCode>(code);
  if (v != ProtocolVersion::v5) {
    if (code > 5) return DecodeError::InvalidReasonCode;
    return end_of_packet(r);
  }
  if (!reason_code_allowed(PacketType::ConnAck, code)) return DecodeError::InvalidReasonCode;
  DecodeError e = read_properties(r, PropertyContext::ConnAck, a.properties);
  if (e != DecodeError::Ok) return e;
  return end_of_packet(r);
}

}  // namespace shardmq::core::decoding
