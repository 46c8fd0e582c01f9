// One epoll event loop driving many non-blocking client sockets in one process. Reads go
// into one per-loop buffer and are decoded in place; writes are batched: encoders only
// append to a client's OutBuffer and mark it dirty, and the loop writes each dirty client
// once per iteration. Protocol chores (acks, CONNACK/SUBACK checks) are done here; the
// scenario sees events through LoopHandler. With a TlsClientContext every socket carries
// TLS: the handshake runs between TCP connect and CONNECT, reads gather records into the same
// buffer, and the once-per-iteration write is one SSL_write pass over the client's bytes.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "core/packets.hpp"
#include "loadgen/frame_reader.hpp"
#include "loadgen/mqtt_client.hpp"
#include "loadgen/tls_client.hpp"

namespace shardmq::loadgen {

enum class CloseReason : std::uint8_t {
  ConnectFailed,  // TCP connect refused, reset or failed, or the TLS handshake failed
  Refused,        // CONNACK or SUBACK carried a failure code
  PeerClosed,     // the broker closed (or reset) an established connection
  ProtocolError,  // the broker sent bytes we could not decode
  Local,          // we closed it (end of run)
};

class LoopHandler {
 public:
  virtual ~LoopHandler() = default;
  // Queue CONNECT here. Plain TCP: called as soon as connect() has started (the bytes go when
  // the handshake is done); TLS: once the handshake is done.
  virtual void on_tcp_connected(std::uint32_t i) = 0;
  virtual void on_connack(std::uint32_t i) = 0;
  virtual void on_suback(std::uint32_t i) = 0;
  // After the loop queued the PUBACK/PUBREC this PUBLISH needs.
  virtual void on_publish(std::uint32_t i, const core::Publish& p) = 0;
  // A QoS 1/2 flow this client started is complete (PUBACK or PUBCOMP).
  virtual void on_ack(std::uint32_t i, std::uint16_t packet_id) = 0;
  // After a flush of a client with wants_drain set: room to queue more.
  virtual void on_drain(std::uint32_t /*i*/) {}
  virtual void on_closed(std::uint32_t i, CloseReason why) = 0;
};

class ClientLoop {
 public:
  // tls: nullptr for plain TCP; else it must outlive the loop.
  ClientLoop(std::uint32_t clients, LoopHandler& handler, sockaddr_in server,
             const TlsClientContext* tls = nullptr);
  ~ClientLoop();
  ClientLoop(const ClientLoop&) = delete;
  ClientLoop& operator=(const ClientLoop&) = delete;

  MqttClient& client(std::uint32_t i) { return clients_[i]; }
  std::uint32_t size() const { return static_cast<std::uint32_t>(clients_.size()); }

  // Starts a non-blocking connect, from `source` when given (bind() before connect()).
  // Returns false (and reports ConnectFailed) when the socket cannot even be started.
  bool open(std::uint32_t i, std::optional<in_addr> source);
  void close(std::uint32_t i, CloseReason why);
  // Puts the client on this iteration's flush list (call after queueing bytes).
  void mark_dirty(std::uint32_t i);

  // Waits up to timeout_ms (0 when writes are pending), handles events, flushes.
  void run_once(int timeout_ms);
  std::uint32_t open_sockets() const { return open_; }
  // Bytes queued for the client but not yet taken by the peer: ours plus the kernel's
  // send queue (SIOCOUTQ), so a QoS 0 window bounds the whole path, not just user space.
  std::size_t unsent(std::uint32_t i);

 private:
  void on_event(std::uint32_t i, std::uint32_t events);
  bool send_early(std::uint32_t i);  // plain TCP: CONNECT right after connect(); false: failed
  void finish_connect(std::uint32_t i);
  void connected(std::uint32_t i);  // transport up: CONNECT goes out
  void handshake(std::uint32_t i);
  void tls_failed(std::uint32_t i, CloseReason why);
  void read_from(std::uint32_t i);
  void read_tls(std::uint32_t i);
  bool decode(std::uint32_t i, std::size_t n);  // read_buf_[0, n); false: closed
  void flush_tls(std::uint32_t i);
  bool dispatch(std::uint32_t i, const core::Packet& p);  // false: close it
  void flush(std::uint32_t i);
  void arm_write(std::uint32_t i, bool on);

  std::vector<MqttClient> clients_;
  LoopHandler& handler_;
  sockaddr_in server_;
  const TlsClientContext* tls_;
  bool tls_error_reported_ = false;  // the first TLS failure is printed, not every one
  int epfd_ = -1;
  std::uint32_t open_ = 0;
  std::vector<std::uint32_t> dirty_;
  std::vector<std::uint32_t> flushing_;
  // TLS sessions that stopped reading with decrypted bytes buffered, which epoll cannot see.
  std::vector<std::uint32_t> reread_;
  std::vector<std::uint32_t> rereading_;
  FrameReader reader_;  // one decoder for every client; each keeps only its partial packet
  std::vector<std::byte> read_buf_;
};

}  // namespace shardmq::loadgen
