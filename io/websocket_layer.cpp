#include "io/websocket_layer.hpp"

#include <algorithm>
#include <cstring>

namespace shardmq::io {

bool WebSocketLayer::on_wire_data(std::span<const std::byte> in, ByteBlock& app_in,
                                  ByteBlock& wire_out) {
  if (failed_) return false;
  if (done_) return on_frames(in, app_in, wire_out);

  request_.append(reinterpret_cast<const char*>(in.data()), in.size());
  UpgradeOutcome o = parse_upgrade_request(request_, *opts_);
  if (o.status == UpgradeStatus::need_more) return true;
  wire_out.append(o.response.data(), o.response.size());
  if (o.status == UpgradeStatus::rejected) {
    error_ = "WebSocket upgrade refused: " + o.error;
    failed_ = true;
    return false;
  }
  done_ = true;
  subprotocol_ = std::move(o.subprotocol);
  if (!pending_.empty()) {
    write_frame(Opcode::binary, pending_.data(), pending_.size(), wire_out);
    pending_.release();
  }
  // Frames the client sent right behind its request.
  std::string rest = request_.substr(o.consumed);
  std::string().swap(request_);
  return on_frames({reinterpret_cast<const std::byte*>(rest.data()), rest.size()}, app_in,
                   wire_out);
}

std::size_t WebSocketLayer::header_size() const {
  std::size_t len7 = hdr_[1] & 0x7f;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;  // + masking key
}

bool WebSocketLayer::on_frames(std::span<const std::byte> in, ByteBlock& app_in,
                               ByteBlock& wire_out) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(in.data());
  std::size_t left = in.size();
  while (left > 0) {
    if (!in_payload_) {
      std::size_t want = hdr_len_ < 2 ? 2 : header_size();
      std::size_t take = std::min(want - hdr_len_, left);
      std::memcpy(hdr_ + hdr_len_, p, take);
      hdr_len_ += take;
      p += take;
      left -= take;
      if (hdr_len_ < want) continue;
      if (hdr_len_ == 2) {
        if (!(hdr_[1] & 0x80))
          return fail(CloseCode::protocol_error, "unmasked client frame", wire_out);
        if (header_size() > 2) continue;
      }
      if (!start_frame(wire_out)) return false;
      if (payload_left_ == 0 && !end_frame(wire_out)) return false;
      continue;
    }
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, left));
    std::uint8_t* dst;
    if (opcode_ == Opcode::binary || opcode_ == Opcode::continuation) {
      dst = reinterpret_cast<std::uint8_t*>(app_in.reserve(n));
      app_in.grow(n);
    } else {
      dst = control_ + control_len_;
      control_len_ += n;
    }
    unmask(dst, p, n);
    p += n;
    left -= n;
    payload_left_ -= n;
    if (payload_left_ == 0 && !end_frame(wire_out)) return false;
  }
  return true;
}

void WebSocketLayer::unmask(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) {
  std::size_t i = 0;
  // Eight bytes at a time with the key repeated and rotated to where this chunk starts.
  std::uint8_t key8[8];
  for (int k = 0; k < 8; ++k)
    key8[k] = mask_[(mask_pos_ + k) & 3];
  std::uint64_t key;
  std::memcpy(&key, key8, 8);
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, src + i, 8);
    w ^= key;
    std::memcpy(dst + i, &w, 8);
  }
  for (; i < n; ++i)
    dst[i] = src[i] ^ mask_[(mask_pos_ + i) & 3];
  mask_pos_ = (mask_pos_ + n) & 3;
}

bool WebSocketLayer::start_frame(ByteBlock& wire_out) {
  fin_ = hdr_[0] & 0x80;
  if (hdr_[0] & 0x70) return fail(CloseCode::protocol_error, "reserved bits set", wire_out);
  opcode_ = static_cast<Opcode>(hdr_[0] & 0x0f);
  std::size_t len7 = hdr_[1] & 0x7f;
  std::uint64_t len = len7;
  const std::uint8_t* ext = hdr_ + 2;
  if (len7 == 126) {
    len = (std::uint64_t{ext[0]} << 8) | ext[1];
  } else if (len7 == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i)
      len = (len << 8) | ext[i];
    if (len >> 63) return fail(CloseCode::protocol_error, "invalid frame length", wire_out);
  }
  std::memcpy(mask_, hdr_ + hdr_len_ - 4, 4);
  mask_pos_ = 0;
  payload_left_ = len;
  control_len_ = 0;

  switch (opcode_) {
    case Opcode::text:
      return fail(CloseCode::unsupported_data, "text frame (MQTT needs binary)", wire_out);
    case Opcode::continuation:
      if (!in_message_)
        return fail(CloseCode::protocol_error, "continuation without a message", wire_out);
      break;
    case Opcode::binary:
      if (in_message_)
        return fail(CloseCode::protocol_error, "new message inside a fragmented one", wire_out);
      message_size_ = 0;
      break;
    case Opcode::close:
    case Opcode::ping:
    case Opcode::pong:
      if (!fin_ || len > 125)
        return fail(CloseCode::protocol_error, "fragmented or oversized control frame", wire_out);
      break;
    default:
      return fail(CloseCode::protocol_error, "unknown opcode", wire_out);
  }
  if (opcode_ == Opcode::binary || opcode_ == Opcode::continuation) {
    if (len > opts_->max_frame_size)
      return fail(CloseCode::too_big, "frame larger than max_frame_size", wire_out);
    message_size_ += len;
    if (message_size_ > opts_->max_message_size)
      return fail(CloseCode::too_big, "message larger than max_message_size", wire_out);
    in_message_ = !fin_;
  }
  hdr_len_ = 0;
  in_payload_ = true;
  return true;
}

bool WebSocketLayer::end_frame(ByteBlock& wire_out) {
  in_payload_ = false;
  hdr_len_ = 0;
  switch (opcode_) {
    case Opcode::ping:
      if (!close_sent_) write_frame(Opcode::pong, control_, control_len_, wire_out);
      return true;
    case Opcode::close: {
      if (control_len_ == 1)
        return fail(CloseCode::protocol_error, "close frame with a 1-byte body", wire_out);
      bool has_code = control_len_ >= 2;
      std::uint16_t code = has_code ? static_cast<std::uint16_t>(control_[0] << 8 | control_[1])
                                    : static_cast<std::uint16_t>(CloseCode::normal);
      if (!close_sent_) write_close(code, has_code, wire_out);
      close_sent_ = true;
      failed_ = true;
      error_ = "closed by peer (code " + std::to_string(code) + ")";
      return false;
    }
    default:
      return true;  // data (already streamed) or pong
  }
}

bool WebSocketLayer::fail(CloseCode code, std::string why, ByteBlock& wire_out) {
  if (!close_sent_) write_close(static_cast<std::uint16_t>(code), true, wire_out);
  close_sent_ = true;
  failed_ = true;
  error_ = "WebSocket: " + why;
  return false;
}

void WebSocketLayer::write_frame(Opcode op, const void* payload, std::size_t n,
                                 ByteBlock& wire_out) {
  std::uint8_t h[10];
  std::size_t hl = 2;
  h[0] = static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(op));
  if (n < 126) {
    h[1] = static_cast<std::uint8_t>(n);
  } else if (n <= 0xffff) {
    h[1] = 126;
    h[2] = static_cast<std::uint8_t>(n >> 8);
    h[3] = static_cast<std::uint8_t>(n);
    hl = 4;
  } else {
    h[1] = 127;
    for (int i = 0; i < 8; ++i)
      h[2 + i] = static_cast<std::uint8_t>(std::uint64_t{n} >> (56 - 8 * i));
    hl = 10;
  }
  wire_out.append(h, hl);
  wire_out.append(payload, n);
}

void WebSocketLayer::write_close(std::uint16_t code, bool with_code, ByteBlock& wire_out) {
  std::uint8_t body[2] = {static_cast<std::uint8_t>(code >> 8), static_cast<std::uint8_t>(code)};
  write_frame(Opcode::close, body, with_code ? 2 : 0, wire_out);
}

bool WebSocketLayer::on_app_data(std::span<const std::byte> out, ByteBlock& wire_out) {
  if (failed_ || close_sent_) return false;
  if (!done_) {
    pending_.append(out.data(), out.size());
    return true;
  }
  if (!out.empty()) write_frame(Opcode::binary, out.data(), out.size(), wire_out);
  return true;
}

void WebSocketLayer::close(ByteBlock& wire_out) {
  if (!done_ || close_sent_ || failed_) return;
  write_close(static_cast<std::uint16_t>(CloseCode::normal), true, wire_out);
  close_sent_ = true;
}

}  // namespace shardmq::io
