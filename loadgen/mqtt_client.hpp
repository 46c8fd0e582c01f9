// One simulated MQTT 3.1.1 client: its socket, its unsent bytes, a packet a read cut in two and
// the encoders a scenario calls. Encoding goes through the core/ codec; the 4-byte
// acknowledgements are encoded once by the codec and then only get their packet id patched,
// so the message path allocates nothing.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <span>
#include <string_view>

#include <vector>

#include "core/decoder.hpp"
#include "core/mqtt_types.hpp"
#include "loadgen/out_buffer.hpp"

namespace shardmq::loadgen {

enum class ClientState : std::uint8_t {
  Idle,           // no socket yet
  TcpConnecting,  // non-blocking connect() in progress
  TlsHandshake,   // --tls: TCP up, TLS handshake in progress
  AwaitConnack,   // CONNECT sent
  Active,         // CONNACK accepted
  Closed,
};

// How a client decodes what its broker sends (MQTT 3.1.1, client side).
core::DecodeOptions client_decode_options();

class MqttClient {
 public:
  MqttClient();

  // Encoders: append one packet to the out buffer (the loop writes it later).
  void queue_connect(std::string_view client_id, std::uint16_t keep_alive, bool clean_start = true);
  void queue_subscribe(std::string_view filter, core::QoS qos);
  // Writes the PUBLISH header and returns the payload's room, which the caller fills.
  // packet_id is ignored for QoS 0.
  std::span<std::byte> queue_publish(std::string_view topic, core::QoS qos, std::uint16_t packet_id,
                                     std::size_t payload_size);
  void queue_ack(core::PacketType type, std::uint16_t packet_id);  // PUBACK/PUBREC/PUBREL/PUBCOMP
  void queue_pingreq();
  void queue_disconnect();

  // Next non-zero packet identifier (wraps at 65535).
  std::uint16_t next_packet_id() {
    if (++last_packet_id_ == 0) last_packet_id_ = 1;
    return last_packet_id_;
  }

  int fd = -1;
  SSL* ssl = nullptr;  // --tls: the session over fd (owned by ClientLoop)
  ClientState state = ClientState::Idle;
  bool dirty = false;        // on the loop's flush list
  bool write_armed = false;  // EPOLLOUT requested
  bool wants_drain = false;  // call LoopHandler::on_drain after each flush
  bool subscribed = false;
  bool tls_read_blocked = false;  // the last SSL_read wanted EPOLLOUT (key update reply)
  bool rereading = false;         // on the loop's reread list (TLS bytes buffered in SSL)
  std::uint64_t last_send_ns = 0;
  OutBuffer out;
  std::vector<std::byte> partial;  // an incomplete packet's bytes (FrameReader), mostly empty

 private:
  std::uint16_t last_packet_id_ = 0;
};

}  // namespace shardmq::loadgen
