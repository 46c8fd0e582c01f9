// Decoding MQTT packets from bytes as they arrive. decode_packet() is a pure function over
// a buffer: it reports "need more bytes", a packet and how many bytes it used, or the rule
// the bytes broke. Nothing is copied: the packet's strings and payload point into `buf`.
// StreamDecoder adds the buffering a connection needs around it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/decode_error.hpp"
#include "core/mqtt_types.hpp"
#include "core/packets.hpp"
#include "core/result.hpp"

namespace shardmq::core {

struct DecodeOptions {
  // Level of everything but CONNECT (which carries its own level and is always decodable).
  ProtocolVersion version = ProtocolVersion::v311;
  // Largest whole packet accepted (fixed header included); larger gives PacketTooLarge.
  std::uint32_t max_packet_size = kMaxPacketSize;
  // true: we are the server, decoding what a client sends (CONNECT, SUBSCRIBE, ... allowed;
  // CONNACK, SUBACK, ... refused). false: the reverse.
  bool is_server = true;
  // false: a SUBSCRIBE filter that breaks MQTT's topic filter rules (`#` not last, `+` not a
  // whole level, a bad `$share/` name, an empty filter) is decoded as sent, for a server that
  // refuses that filter alone in its SUBACK (0x8F) rather than the whole connection.
  bool check_subscribe_filters = true;
};

struct Decoded {
  // 0 when the buffer holds no complete packet yet; `packet` is then meaningless.
  std::size_t consumed = 0;
  // When consumed == 0: the buffer size at which decoding can progress (the whole packet
  // once its fixed header is known, else the current size + 1).
  std::size_t needed = 0;
  Packet packet;

  bool complete() const { return consumed != 0; }
};

// Where the next packet ends: the frame layer alone, no validation of the content.
struct FrameInfo {
  std::size_t header_size = 0;  // 0: the fixed header is not complete yet
  std::size_t total_size = 0;   // header + remaining length (valid when header_size != 0)
};
// Errors: RemainingLengthTooLong, PacketTooLarge.
Result<FrameInfo, DecodeError> peek_frame(std::span<const std::byte> buf,
                                          std::uint32_t max_packet_size = kMaxPacketSize);

Result<Decoded, DecodeError> decode_packet(std::span<const std::byte> buf,
                                           const DecodeOptions& opts);

// The same, writing into a caller-owned Decoded (no large return value to move): the hot
// path. Returns DecodeError::Ok on success or when more bytes are needed (out.consumed 0).
DecodeError decode_packet_into(std::span<const std::byte> buf, const DecodeOptions& opts,
                               Decoded& out);

// Decodes exactly one complete frame (type byte .. end of remaining length) whose fixed
// header has already been parsed by peek_frame. A Publish already in `out` is reused
// (cheaper than a fresh one); its properties are reset only if it holds properties that a
// decode set (`raw` non-empty) or repeating properties supplied by the caller, so a Publish
// filled in by hand should be reset before it is decoded into.
DecodeError decode_frame(std::span<const std::byte> frame, std::size_t header_size,
                         const DecodeOptions& opts, Packet& out);

// Buffers a connection's byte stream. feed() decodes every complete packet straight from
// the bytes given (zero copy) and keeps only an incomplete tail, copying as few bytes as
// needed to finish it on the next feed. When acting as a server, a decoded CONNECT sets
// the protocol level for what follows.
class StreamDecoder {
 public:
  explicit StreamDecoder(DecodeOptions opts = {}) : opts_(opts) {}

  // fn(const Packet&) is called for each packet; its views are valid during the call only.
  // Stops at the first error and returns it (the connection must then be closed).
  template <typename F>
  DecodeError feed(std::span<const std::byte> data, F&& fn);

  const DecodeOptions& options() const { return opts_; }
  void set_version(ProtocolVersion v) { opts_.version = v; }
  void set_max_packet_size(std::uint32_t n) { opts_.max_packet_size = n; }
  std::size_t buffered() const { return tail_.size(); }

 private:
  // Moves bytes from data into tail_ until it holds a complete frame; returns the frame
  // size once complete, 0 if data ran out. Advances data.
  Result<std::size_t, DecodeError> fill_tail(std::span<const std::byte>& data);
  void after_packet(const Packet& p);

  DecodeOptions opts_;
  std::vector<std::byte> tail_;
  Packet scratch_;
};

template <typename F>
DecodeError StreamDecoder::feed(std::span<const std::byte> data, F&& fn) {
  if (!tail_.empty()) {
    auto filled = fill_tail(data);
    if (!filled) return filled.error();
    if (*filled == 0) return DecodeError::Ok;
    auto frame = peek_frame(tail_, opts_.max_packet_size);
    DecodeError e = decode_frame(tail_, frame->header_size, opts_, scratch_);
    if (e != DecodeError::Ok) return e;
    fn(static_cast<const Packet&>(scratch_));
    after_packet(scratch_);
    tail_.clear();
  }
  while (!data.empty()) {
    auto frame = peek_frame(data, opts_.max_packet_size);
    if (!frame) return frame.error();
    if (frame->header_size == 0 || frame->total_size > data.size()) {
      tail_.assign(data.begin(), data.end());
      return DecodeError::Ok;
    }
    DecodeError e =
        decode_frame(data.first(frame->total_size), frame->header_size, opts_, scratch_);
    if (e != DecodeError::Ok) return e;
    fn(static_cast<const Packet&>(scratch_));
    after_packet(scratch_);
    data = data.subspan(frame->total_size);
  }
  return DecodeError::Ok;
}

}  // namespace shardmq::core
