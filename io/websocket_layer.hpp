// WebSocketLayer: the server side of RFC 6455 carrying MQTT (subprotocol "mqtt"). First the
// HTTP upgrade (see http_upgrade.hpp), then frames: masked binary frames from the client are
// unmasked straight into app_in as they arrive (a frame may hold part of an MQTT packet or
// several packets; fragments are streamed, never reassembled in a buffer). Pings are
// answered, a close is echoed. Application bytes leave as single unmasked binary frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "io/byte_block.hpp"
#include "io/http_upgrade.hpp"
#include "io/stream_layer.hpp"

namespace shardmq::io {

// RFC 6455 section 7.4.1 status codes this layer sends.
enum class CloseCode : std::uint16_t {
  normal = 1000,
  protocol_error = 1002,
  unsupported_data = 1003,  // text frames: MQTT is binary
  too_big = 1009,
};

class WebSocketLayer final : public StreamLayer {
 public:
  // The options are the listener's, shared by all its connections.
  explicit WebSocketLayer(std::shared_ptr<const WebSocketOptions> opts) : opts_(std::move(opts)) {}

  // Returns false when the upgrade is refused (the HTTP error is in wire_out), on a protocol
  // violation (our close frame is in wire_out), and once the peer's close frame arrives
  // (error() starts with "closed by peer"; the echo is in wire_out).
  bool on_wire_data(std::span<const std::byte> in, ByteBlock& app_in, ByteBlock& wire_out) override;
  bool on_app_data(std::span<const std::byte> out, ByteBlock& wire_out) override;
  void close(ByteBlock& wire_out) override;

  bool handshake_done() const override { return done_; }
  const std::string& error() const override { return error_; }

  const std::string& subprotocol() const { return subprotocol_; }

 private:
  enum class Opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
  };

  bool on_frames(std::span<const std::byte> in, ByteBlock& app_in, ByteBlock& wire_out);
  bool start_frame(ByteBlock& wire_out);  // header complete: validate, set up the payload
  bool end_frame(ByteBlock& wire_out);    // payload complete: act on control frames
  bool fail(CloseCode code, std::string why, ByteBlock& wire_out);
  std::size_t header_size() const;
  void unmask(std::uint8_t* dst, const std::uint8_t* src, std::size_t n);
  static void write_frame(Opcode op, const void* payload, std::size_t n, ByteBlock& wire_out);
  void write_close(std::uint16_t code, bool with_code, ByteBlock& wire_out);

  std::shared_ptr<const WebSocketOptions> opts_;
  std::string request_;  // the HTTP request head while it arrives
  ByteBlock pending_;    // app bytes given before the upgrade finished
  std::string error_;
  std::string subprotocol_;
  bool done_ = false;
  bool failed_ = false;
  bool close_sent_ = false;

  // Frame parser state.
  std::uint8_t hdr_[14];
  std::size_t hdr_len_ = 0;
  bool in_payload_ = false;
  Opcode opcode_ = Opcode::binary;
  bool fin_ = false;
  std::uint64_t payload_left_ = 0;
  std::uint8_t mask_[4];
  std::size_t mask_pos_ = 0;
  bool in_message_ = false;         // a fragmented binary message is in progress
  std::uint64_t message_size_ = 0;  // payload bytes of the current message so far
  std::uint8_t control_[125];       // control frame payload (ping data, close code)
  std::size_t control_len_ = 0;
};

}  // namespace shardmq::io
