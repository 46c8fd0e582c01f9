// PROXY protocol (HAProxy, versions 1 and 2): a load balancer that terminates nothing but
// forwards TCP puts the client's real address in a header at the start of the connection.
// parse_proxy_header reads it; ProxyProtocolLayer strips it and passes the rest through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/result.hpp"
#include "io/byte_block.hpp"
#include "io/stream_layer.hpp"

namespace shardmq::io {

struct ProxyHeader {
  std::size_t consumed = 0;  // header bytes to drop from the stream
  int version = 0;           // 1 or 2
  bool is_local = false;     // LOCAL (v2), UNKNOWN (v1), or a non-IP family: use the socket's
  bool ipv6 = false;
  std::string source_ip;  // "203.0.113.7", "2001:db8::1"; empty when is_local
  std::uint16_t source_port = 0;
  std::string dest_ip;
  std::uint16_t dest_port = 0;

  // "203.0.113.7:5555" or "[2001:db8::1]:5555"; empty when is_local.
  std::string source() const;
};

struct ProxyError {
  bool need_more = false;  // a valid prefix: call again with more bytes
  std::string message;
};

Result<ProxyHeader, ProxyError> parse_proxy_header(std::span<const std::byte> data);

// Strips the header (the connection must start with one, else error), then is a plain
// pass-through; once handshake_done() the broker may drop it from the stack and keep
// header().
class ProxyProtocolLayer final : public StreamLayer {
 public:
  bool on_wire_data(std::span<const std::byte> in, ByteBlock& app_in, ByteBlock& wire_out) override;
  bool on_app_data(std::span<const std::byte> out, ByteBlock& wire_out) override;
  void close(ByteBlock&) override {}

  bool handshake_done() const override { return done_; }
  const std::string& error() const override { return error_; }
  std::string peer_identity() const override { return header_.source(); }
  std::string peer_source_address() const override {
    return header_.is_local ? std::string() : header_.source_ip;
  }

  const ProxyHeader& header() const { return header_; }

 private:
  ByteBlock head_;  // bytes while the header is incomplete
  ProxyHeader header_;
  std::string error_;
  bool done_ = false;
  bool failed_ = false;
};

}  // namespace shardmq::io
