// Packet encoding: a sizing pass (which also checks field limits), then unchecked writes.
#include "core/encoder.hpp"

#include "core/property_codec.hpp"
#include "core/wire_writer.hpp"

namespace shardmq::core {

namespace {

constexpr std::size_t kMaxField = 65535;
constexpr std::string_view kNameMqtt = "MQTT";
constexpr std::string_view kNameMqisdp = "MQIsdp";

// Remaining length of a packet, and whether every field fits its length prefix.
struct Body {
  std::size_t size = 0;
  bool fits = true;
  bool in_version = true;

  void str(std::size_t n) {
    size += 2 + n;
    fits = fits && n <= kMaxField;
  }
  void props(const Properties& p) {
    size += properties_block_size(p);
    fits = fits && properties_fit(p);
  }
};

bool v5(ProtocolVersion v) {
  return v == ProtocolVersion::v5;
}

std::uint8_t first_byte(PacketType t, unsigned flags) {
  return static_cast<std::uint8_t>((static_cast<unsigned>(t) << 4) | flags);
}

// --- sizing -------------------------------------------------------------------------------

void size_of(const Connect& c, ProtocolVersion, Body& b) {
  b.str(c.version == ProtocolVersion::v31 ? kNameMqisdp.size() : kNameMqtt.size());
  b.size += 4;  // level, flags, keep alive
  if (v5(c.version)) b.props(c.properties);
  b.str(c.client_id.size());
  if (c.will) {
    if (v5(c.version)) b.props(c.will->properties);
    b.str(c.will->topic.size());
    b.str(c.will->payload.size());
  }
  if (c.username) b.str(c.username->size());
  if (c.password) b.str(c.password->size());
}

void size_of(const ConnAck& a, ProtocolVersion v, Body& b) {
  b.size += 2;
  if (v5(v)) b.props(a.properties);
}

void size_of(const Publish& p, ProtocolVersion v, Body& b) {
  b.str(p.topic.size());
  if (p.qos != QoS::AtMostOnce) b.size += 2;
  if (v5(v)) b.props(p.properties);
  b.size += p.payload.size();
}

// Optional trailing reason code + properties of MQTT 5 acks, DISCONNECT and AUTH: omitted
// when they say nothing (Success, no properties).
void size_of_reason_tail(ReasonCode rc, const Properties& props, Body& b) {
  std::size_t content = properties_content_size(props);
  if (content == 0) {
    if (rc != ReasonCode::Success) b.size += 1;
    return;
  }
  b.size += 1;
  b.props(props);
}

template <typename Ack>
void size_of_ack(const Ack& a, ProtocolVersion v, Body& b) {
  b.size += 2;
  if (v5(v)) size_of_reason_tail(a.reason_code, a.properties, b);
}
void size_of(const PubAck& a, ProtocolVersion v, Body& b) {
  size_of_ack(a, v, b);
}
void size_of(const PubRec& a, ProtocolVersion v, Body& b) {
  size_of_ack(a, v, b);
}
void size_of(const PubRel& a, ProtocolVersion v, Body& b) {
  size_of_ack(a, v, b);
}
void size_of(const PubComp& a, ProtocolVersion v, Body& b) {
  size_of_ack(a, v, b);
}

void size_of(const Subscribe& s, ProtocolVersion v, Body& b) {
  b.size += 2;
  if (v5(v)) b.props(s.properties);
  for (const Subscription& sub : s.subscriptions) {
    b.str(sub.topic_filter.size());
    b.size += 1;
  }
}
void size_of(const SubAck& s, ProtocolVersion v, Body& b) {
  b.size += 2 + s.reason_codes.size();
  if (v5(v)) b.props(s.properties);
}
void size_of(const Unsubscribe& u, ProtocolVersion v, Body& b) {
  b.size += 2;
  if (v5(v)) b.props(u.properties);
  for (std::string_view f : u.topic_filters)
    b.str(f.size());
}
void size_of(const UnsubAck& u, ProtocolVersion v, Body& b) {
  b.size += 2;
  if (v5(v)) {
    b.props(u.properties);
    b.size += u.reason_codes.size();
  }
}
void size_of(const PingReq&, ProtocolVersion, Body&) {}
void size_of(const PingResp&, ProtocolVersion, Body&) {}
void size_of(const Disconnect& d, ProtocolVersion v, Body& b) {
  if (v5(v)) size_of_reason_tail(d.reason_code, d.properties, b);
}
void size_of(const Auth& a, ProtocolVersion v, Body& b) {
  if (!v5(v)) b.in_version = false;
  size_of_reason_tail(a.reason_code, a.properties, b);
}

// --- writing ------------------------------------------------------------------------------

void write_connect_body(WireWriter& w, const Connect& c) {
  bool is_v5 = v5(c.version);
  w.string(c.version == ProtocolVersion::v31 ? kNameMqisdp : kNameMqtt);
  w.u8(static_cast<std::uint8_t>(c.version));
  unsigned flags = 0;
  if (c.clean_start) flags |= 0x02;
  if (c.will) {
    flags |= 0x04 | (static_cast<unsigned>(c.will->qos) << 3);
    if (c.will->retain) flags |= 0x20;
  }
  if (c.password) flags |= 0x40;
  if (c.username) flags |= 0x80;
  w.u8(static_cast<std::uint8_t>(flags));
  w.u16(c.keep_alive);
  if (is_v5) write_properties(w, c.properties);
  w.string(c.client_id);
  if (c.will) {
    if (is_v5) write_properties(w, c.will->properties);
    w.string(c.will->topic);
    w.binary(c.will->payload);
  }
  if (c.username) w.string(*c.username);
  if (c.password) w.binary(*c.password);
}

void write_reason_tail(WireWriter& w, ReasonCode rc, const Properties& props) {
  if (properties_content_size(props) == 0) {
    if (rc != ReasonCode::Success) w.u8(static_cast<std::uint8_t>(rc));
    return;
  }
  w.u8(static_cast<std::uint8_t>(rc));
  write_properties(w, props);
}

struct BodyWriter {
  WireWriter& w;
  ProtocolVersion v;

  void operator()(const Connect& c) { write_connect_body(w, c); }
  void operator()(const ConnAck& a) {
    w.u8(a.session_present ? 1 : 0);
    w.u8(static_cast<std::uint8_t>(a.reason_code));
    if (v5(v)) write_properties(w, a.properties);
  }
  void operator()(const Publish& p) {
    w.string(p.topic);
    if (p.qos != QoS::AtMostOnce) w.u16(p.packet_id);
    if (v5(v)) write_properties(w, p.properties);
    w.raw(p.payload);
  }
  template <typename Ack>
  void ack(const Ack& a) {
    w.u16(a.packet_id);
    if (v5(v)) write_reason_tail(w, a.reason_code, a.properties);
  }
  void operator()(const PubAck& a) { ack(a); }
  void operator()(const PubRec& a) { ack(a); }
  void operator()(const PubRel& a) { ack(a); }
  void operator()(const PubComp& a) { ack(a); }
  void operator()(const Subscribe& s) {
    w.u16(s.packet_id);
    if (v5(v)) write_properties(w, s.properties);
    for (const Subscription& sub : s.subscriptions) {
      w.string(sub.topic_filter);
      unsigned o = static_cast<unsigned>(sub.max_qos);
      if (v5(v)) {
        if (sub.no_local) o |= 0x04;
        if (sub.retain_as_published) o |= 0x08;
        o |= static_cast<unsigned>(sub.retain_handling) << 4;
      }
      w.u8(static_cast<std::uint8_t>(o));
    }
  }
  void operator()(const SubAck& s) {
    w.u16(s.packet_id);
    if (v5(v)) write_properties(w, s.properties);
    for (ReasonCode rc : s.reason_codes)
      w.u8(static_cast<std::uint8_t>(rc));
  }
  void operator()(const Unsubscribe& u) {
    w.u16(u.packet_id);
    if (v5(v)) write_properties(w, u.properties);
    for (std::string_view f : u.topic_filters)
      w.string(f);
  }
  void operator()(const UnsubAck& u) {
    w.u16(u.packet_id);
    if (!v5(v)) return;
    write_properties(w, u.properties);
    for (ReasonCode rc : u.reason_codes)
      w.u8(static_cast<std::uint8_t>(rc));
  }
  void operator()(const PingReq&) {}
  void operator()(const PingResp&) {}
  void operator()(const Disconnect& d) {
    if (v5(v)) write_reason_tail(w, d.reason_code, d.properties);
  }
  void operator()(const Auth& a) { write_reason_tail(w, a.reason_code, a.properties); }
};

unsigned fixed_flags(const Packet& p) {
  if (const auto* pub = std::get_if<Publish>(&p)) {
    return (pub->dup ? 8u : 0u) | (static_cast<unsigned>(pub->qos) << 1) | (pub->retain ? 1u : 0u);
  }
  auto t = packet_type(p);
  return (t == PacketType::PubRel || t == PacketType::Subscribe || t == PacketType::Unsubscribe)
             ? 2u
             : 0u;
}

ProtocolVersion effective_version(const Packet& p, ProtocolVersion v) {
  if (const auto* c = std::get_if<Connect>(&p)) return c->version;
  return v;
}

Body body_of(const Packet& p, ProtocolVersion v) {
  Body b;
  std::visit([&](const auto& x) { size_of(x, v, b); }, p);
  return b;
}

void write_publish_header(WireWriter& w, const PublishHeader& h, std::size_t rl,
                          ProtocolVersion v) {
  unsigned flags = (h.dup ? 8u : 0u) | (static_cast<unsigned>(h.qos) << 1) | (h.retain ? 1u : 0u);
  w.u8(first_byte(PacketType::Publish, flags));
  w.varint(static_cast<std::uint32_t>(rl));
  w.string(h.topic);
  if (h.qos != QoS::AtMostOnce) w.u16(h.packet_id);
  if (v5(v)) {
    if (h.properties != nullptr) {
      write_properties(w, *h.properties);
    } else {
      w.u8(0);
    }
  }
}

std::size_t publish_header_body(const PublishHeader& h, ProtocolVersion v, bool& fits) {
  std::size_t n = 2 + h.topic.size() + (h.qos != QoS::AtMostOnce ? 2 : 0);
  fits = h.topic.size() <= kMaxField;
  if (v5(v)) {
    if (h.properties != nullptr) {
      n += properties_block_size(*h.properties);
      fits = fits && properties_fit(*h.properties);
    } else {
      n += 1;
    }
  }
  return n;
}

}  // namespace

std::string_view encode_error_name(EncodeError e) {
  switch (e) {
    case EncodeError::BufferTooSmall:
      return "buffer too small";
    case EncodeError::PacketTooLarge:
      return "packet too large";
    case EncodeError::FieldTooLong:
      return "field over 65535 bytes";
    case EncodeError::NotInVersion:
      return "packet not in this protocol version";
  }
  return "unknown encode error";
}

std::size_t encoded_size(const Packet& p, ProtocolVersion version) {
  Body b = body_of(p, effective_version(p, version));
  return 1 + varint_size(static_cast<std::uint32_t>(b.size)) + b.size;
}

Result<std::size_t, EncodeError> encode(const Packet& p, ProtocolVersion version,
                                        std::span<std::byte> out) {
  ProtocolVersion v = effective_version(p, version);
  Body b = body_of(p, v);
  if (!b.in_version) return unexpected(EncodeError::NotInVersion);
  if (!b.fits) return unexpected(EncodeError::FieldTooLong);
  if (b.size > kMaxRemainingLength) return unexpected(EncodeError::PacketTooLarge);
  std::size_t total = 1 + varint_size(static_cast<std::uint32_t>(b.size)) + b.size;
  if (total > out.size()) return unexpected(EncodeError::BufferTooSmall);
  WireWriter w(out.data());
  w.u8(first_byte(packet_type(p), fixed_flags(p)));
  w.varint(static_cast<std::uint32_t>(b.size));
  std::visit(BodyWriter{w, v}, p);
  return total;
}

std::size_t publish_header_size(const PublishHeader& h, std::size_t payload_size,
                                ProtocolVersion version) {
  bool fits = true;
  std::size_t body = publish_header_body(h, version, fits);
  std::size_t rl = body + payload_size;
  return 1 + varint_size(static_cast<std::uint32_t>(rl)) + body;
}

Result<std::size_t, EncodeError> encode_publish_header(const PublishHeader& h,
                                                       std::size_t payload_size,
                                                       ProtocolVersion version,
                                                       std::span<std::byte> out) {
  bool fits = true;
  std::size_t body = publish_header_body(h, version, fits);
  if (!fits) return unexpected(EncodeError::FieldTooLong);
  std::size_t rl = body + payload_size;
  if (rl > kMaxRemainingLength) return unexpected(EncodeError::PacketTooLarge);
  std::size_t total = 1 + varint_size(static_cast<std::uint32_t>(rl)) + body;
  if (total > out.size()) return unexpected(EncodeError::BufferTooSmall);
  WireWriter w(out.data());
  write_publish_header(w, h, rl, version);
  return total;
}

std::string_view packet_type_name(PacketType t) {
  switch (t) {
    case PacketType::Connect:
      return "CONNECT";
    case PacketType::ConnAck:
      return "CONNACK";
    case PacketType::Publish:
      return "PUBLISH";
    case PacketType::PubAck:
      return "PUBACK";
    case PacketType::PubRec:
      return "PUBREC";
    case PacketType::PubRel:
      return "PUBREL";
    case PacketType::PubComp:
      return "PUBCOMP";
    case PacketType::Subscribe:
      return "SUBSCRIBE";
    case PacketType::SubAck:
      return "SUBACK";
    case PacketType::Unsubscribe:
      return "UNSUBSCRIBE";
    case PacketType::UnsubAck:
      return "UNSUBACK";
    case PacketType::PingReq:
      return "PINGREQ";
    case PacketType::PingResp:
      return "PINGRESP";
    case PacketType::Disconnect:
      return "DISCONNECT";
    case PacketType::Auth:
      return "AUTH";
  }
  return "UNKNOWN";
}

}  // namespace shardmq::core
