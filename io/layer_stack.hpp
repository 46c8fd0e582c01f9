// Several StreamLayers stacked into one (WSS = TLS below WebSocket; a PROXY header below
// either). Bytes from the wire go up through every layer; application bytes go down. What
// a layer must send to the peer (a WebSocket 101, a pong) is carried down through the
// layers below it, so it reaches the wire encrypted when TLS is underneath.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/stream_layer.hpp"

namespace shardmq::io {

class LayerStack final : public StreamLayer {
 public:
  // Bottom (wire side) first.
  explicit LayerStack(std::vector<std::unique_ptr<StreamLayer>> layers);

  bool on_wire_data(std::span<const std::byte> in, ByteBlock& app_in, ByteBlock& wire_out) override;
  bool on_app_data(std::span<const std::byte> out, ByteBlock& wire_out) override;
  void close(ByteBlock& wire_out) override;
  bool handshake_done() const override;
  const std::string& error() const override { return error_; }
  std::string peer_identity() const override;
  std::string peer_certificate_name() const override;
  std::string peer_certificate_subject() const override;
  std::string peer_source_address() const override;

 private:
  // Encodes bytes produced by layer `above` through the layers below it.
  bool send_down(std::size_t above, ByteBlock& bytes, ByteBlock& wire_out);

  std::vector<std::unique_ptr<StreamLayer>> layers_;
  ByteBlock scratch_[2];
  std::string error_;
};

}  // namespace shardmq::io
