// A byte-stream layer between a socket and MQTT framing: TLS, WebSocket, the PROXY protocol
// header. Layers are pure state machines over memory (no sockets, no threads, no blocking):
// the shard feeds them what the socket received and sends what they produce, in its own
// event loop. Layers stack (WSS = TLS below WebSocket).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "io/byte_block.hpp"

namespace shardmq::io {

class StreamLayer {
 public:
  virtual ~StreamLayer() = default;

  // Bytes from the peer. Appends decoded application bytes to `app_in`, and bytes that
  // must go back to the peer (handshake records, pongs, HTTP 101) to `wire_out`.
  // Returns false on a fatal error; error() says why, and whatever is in wire_out (an
  // alert, an HTTP 400, a close frame) should still be sent before closing.
  virtual bool on_wire_data(std::span<const std::byte> in, ByteBlock& app_in,
                            ByteBlock& wire_out) = 0;

  // Application bytes to send: appends their wire form to `wire_out`. Bytes given before
  // the handshake completes are held and sent when it does.
  virtual bool on_app_data(std::span<const std::byte> out, ByteBlock& wire_out) = 0;

  // Graceful end: appends what says goodbye (TLS close_notify, WebSocket close frame).
  virtual void close(ByteBlock& wire_out) = 0;

  virtual bool handshake_done() const = 0;
  virtual const std::string& error() const = 0;

  // What the layer learned about the peer: TLS client certificate subject CN (or first SAN)
  // for use as a user name; the client address given by a PROXY header. Empty if none.
  virtual std::string peer_identity() const { return {}; }
  // A verified client certificate only: its common name (or first DNS SAN) and its subject
  // in RFC 2253 form (Mosquitto's use_identity_as_username / use_subject_as_username).
  virtual std::string peer_certificate_name() const { return {}; }
  virtual std::string peer_certificate_subject() const { return {}; }
  // The client's address as a PROXY header gave it ("203.0.113.7"); empty without one.
  virtual std::string peer_source_address() const { return {}; }
};

}  // namespace shardmq::io
