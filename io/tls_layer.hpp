// TlsLayer: a server-side TLS session over memory BIOs. The shard hands it what the socket
// read (on_wire_data) and sends what it appends to wire_out; OpenSSL never touches a socket,
// so the handshake advances without blocking, one received chunk at a time.
#pragma once

#include <memory>
#include <string>

#include "io/byte_block.hpp"
#include "io/stream_layer.hpp"
#include "io/tls_context.hpp"

struct ssl_st;
struct bio_st;

namespace shardmq::io {

class TlsLayer final : public StreamLayer {
 public:
  explicit TlsLayer(std::shared_ptr<TlsContext> ctx);
  ~TlsLayer() override;
  TlsLayer(const TlsLayer&) = delete;
  TlsLayer& operator=(const TlsLayer&) = delete;

  // Returns false on a handshake or record error, and also once the peer has sent
  // close_notify (error() then starts with "closed by peer"; our close_notify is in
  // wire_out).
  bool on_wire_data(std::span<const std::byte> in, ByteBlock& app_in, ByteBlock& wire_out) override;
  bool on_app_data(std::span<const std::byte> out, ByteBlock& wire_out) override;
  void close(ByteBlock& wire_out) override;

  bool handshake_done() const override { return done_; }
  const std::string& error() const override { return error_; }
  // Client certificate subject CN, else its first DNS SAN; empty without a verified cert.
  std::string peer_identity() const override { return identity_; }
  std::string peer_certificate_name() const override { return identity_; }
  std::string peer_certificate_subject() const override;

  bool peer_closed() const { return peer_closed_; }
  bool session_reused() const;
  ssl_st* native() const { return ssl_; }

 private:
  bool fail(const char* what, ByteBlock& wire_out);
  bool finish_handshake(ByteBlock& wire_out);
  bool write_app(std::span<const std::byte> out, ByteBlock& wire_out);
  void flush(ByteBlock& wire_out);

  std::shared_ptr<TlsContext> ctx_;  // keeps the SSL_CTX alive across reloads
  ssl_st* ssl_ = nullptr;
  bio_st* rbio_ = nullptr;  // wire bytes in (owned by ssl_)
  bio_st* wbio_ = nullptr;  // wire bytes out (owned by ssl_)
  ByteBlock pending_;       // app bytes given before the handshake finished
  std::string error_;
  std::string identity_;
  bool verified_ = false;  // a client certificate that verified
  bool done_ = false;
  bool failed_ = false;
  bool peer_closed_ = false;
  bool shut_ = false;
};

}  // namespace shardmq::io
