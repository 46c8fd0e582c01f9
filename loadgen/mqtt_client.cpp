#include "loadgen/mqtt_client.hpp"

#include <array>
#include <cstdlib>

#include "core/encoder.hpp"
#include "core/packets.hpp"

namespace shardmq::loadgen {

namespace {

constexpr auto kVersion = core::ProtocolVersion::v311;

// The fixed-size packets, encoded once by the codec. Acks are 4 bytes (type, length 2,
// packet id); PINGREQ and DISCONNECT are 2.
struct Templates {
  std::array<std::array<std::byte, 4>, 16> ack{};
  std::array<std::byte, 2> pingreq{};
  std::array<std::byte, 2> disconnect{};

  Templates() {
    put(core::PacketType::PubAck, core::PubAck{});
    put(core::PacketType::PubRec, core::PubRec{});
    put(core::PacketType::PubRel, core::PubRel{});
    put(core::PacketType::PubComp, core::PubComp{});
    fixed(core::PingReq{}, pingreq);
    fixed(core::Disconnect{}, disconnect);
  }
  template <typename P>
  void put(core::PacketType t, P p) {
    p.packet_id = 0;
    auto& slot = ack[static_cast<std::size_t>(t)];
    auto n = core::encode(core::Packet{p}, kVersion, slot);
    if (!n || *n != slot.size()) std::abort();  // codec and this file disagree: a bug
  }
  template <typename P, std::size_t N>
  static void fixed(P p, std::array<std::byte, N>& out) {
    auto n = core::encode(core::Packet{p}, kVersion, out);
    if (!n || *n != N) std::abort();
  }
};

const Templates& templates() {
  static const Templates t;
  return t;
}

void append(OutBuffer& out, std::span<const std::byte> bytes) {
  auto room = out.reserve(bytes.size());
  std::memcpy(room.data(), bytes.data(), bytes.size());
  out.commit(bytes.size());
}

void append_packet(OutBuffer& out, const core::Packet& p) {
  std::size_t n = core::encoded_size(p, kVersion);
  auto room = out.reserve(n);
  auto r = core::encode(p, kVersion, room);
  if (!r) std::abort();  // sized just above: cannot fail unless the codec is wrong
  out.commit(*r);
}

}  // namespace

core::DecodeOptions client_decode_options() {
  core::DecodeOptions o;
  o.is_server = false;  // we decode what a broker sends
  o.version = kVersion;
  return o;
}

MqttClient::MqttClient() {
  (void)templates();
}

void MqttClient::queue_connect(std::string_view client_id, std::uint16_t keep_alive,
                               bool clean_start) {
  core::Connect c;
  c.version = kVersion;
  c.clean_start = clean_start;
  c.keep_alive = keep_alive;
  c.client_id = client_id;
  append_packet(out, core::Packet{c});
}

void MqttClient::queue_subscribe(std::string_view filter, core::QoS qos) {
  core::Subscribe s;
  s.packet_id = next_packet_id();
  core::Subscription sub;
  sub.topic_filter = filter;
  sub.max_qos = qos;
  s.subscriptions.push_back(sub);  // once per client at setup: allocation is fine here
  append_packet(out, core::Packet{std::move(s)});
}

std::span<std::byte> MqttClient::queue_publish(std::string_view topic, core::QoS qos,
                                               std::uint16_t packet_id, std::size_t payload_size) {
  core::PublishHeader h;
  h.topic = topic;
  h.qos = qos;
  h.packet_id = qos == core::QoS::AtMostOnce ? 0 : packet_id;
  std::size_t hs = core::publish_header_size(h, payload_size, kVersion);
  auto room = out.reserve(hs + payload_size);
  auto r = core::encode_publish_header(h, payload_size, kVersion, room);
  if (!r) std::abort();
  out.commit(*r + payload_size);
  return room.subspan(*r, payload_size);
}

void MqttClient::queue_ack(core::PacketType type, std::uint16_t packet_id) {
  auto room = out.reserve(4);
  std::memcpy(room.data(), templates().ack[static_cast<std::size_t>(type)].data(), 4);
  room[2] = static_cast<std::byte>(packet_id >> 8);
  room[3] = static_cast<std::byte>(packet_id & 0xff);
  out.commit(4);
}

void MqttClient::queue_pingreq() {
  append(out, templates().pingreq);
}
void MqttClient::queue_disconnect() {
  append(out, templates().disconnect);
}

}  // namespace shardmq::loadgen
