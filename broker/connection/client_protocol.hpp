// MQTT as the clients on this shard's sockets speak it: framing the byte stream (through a
// TLS/WebSocket/PROXY layer where there is one), one handler per packet type, CONNECT
// through the authenticator to the session's home shard, PUBLISH into the router, the
// acknowledgements a publisher is owed, wills, and the answers the home shard sends back.
//
// Owns: the connections waiting for a verdict or a resume, the publishers with held
// acknowledgements, the decode scratch. Calls: ConnectionTable (output, closing),
// SessionStore (when the session's home is this shard) or MeshLink (when it is another),
// Router, AccessControl, StorageLink. Called by: the shard (socket data, envelopes from home
// shards, end of turn) and ConnectionTable (ConnectionEvents).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/auth/auth_method.hpp"
#include "broker/auth/authenticator.hpp"
#include "broker/connection/connection_events.hpp"
#include "broker/limits/connect_rate.hpp"
#include "broker/mesh/shard_envelope.hpp"
#include "broker/session/will_publisher.hpp"
#include "broker/shard/shard_context.hpp"
#include "core/packets.hpp"
#include "io/byte_block.hpp"
#include "io/timer_wheel.hpp"

namespace shardmq::broker {

class AccessControl;
class ConnectionTable;
class MeshLink;
class PublishedMessage;
class Router;
class SessionStore;
class StorageLink;
struct Connection;

class ClientProtocol final : public ConnectionEvents, public AuthWaiter, public WillPublisher {
 public:
  ClientProtocol(ShardContext& ctx, ConnectionTable& connections, SessionStore& sessions,
                 Router& router, MeshLink& mesh, AccessControl& access, StorageLink& storage);
  ~ClientProtocol() override;
  ClientProtocol(const ClientProtocol&) = delete;
  ClientProtocol& operator=(const ClientProtocol&) = delete;

  // Bytes from the client's socket.
  void on_data(Connection& c, std::span<const std::byte> data);

  // Answers from the session's home shard (envelopes; direct when the home is here).
  void on_attached(AttachReply& reply, unsigned from);
  void on_delivery(const ShardEnvelope& e);  // deliver: a PUBLISH for the client
  void on_release(std::uint32_t serial, std::uint16_t packet_id);
  void on_session_packet(std::uint32_t serial, const core::Packet& p);  // SUBACK, UNSUBACK
  void on_kick(std::uint32_t serial);                                   // taken over

  // End of turn: handle what clients sent while they waited for their home shard (until
  // settled); later, send the acknowledgements that may go now.
  void resume_waiting();
  void release_acks();
  // End of turn: QoS 1/2 messages too large for their client are finished with their
  // sessions as if acknowledged (MQTT 5 §3.1.2.11.4).
  void finish_too_large();

  // The broker is stopping: every client hears it (MQTT 5) and is closed without its will.
  void begin_shutdown();

  // The run-time settings in the context changed (SIGHUP): derive again what depends on them.
  void settings_changed();
  // Every tick: connections whose publish buckets are out of debt read again at turn end.
  void on_tick();

  // ConnectionEvents
  void on_closing(Connection& c, bool was_connected) override;
  void on_released(Connection& c) override;
  // AuthWaiter
  void on_authenticated(std::uint32_t serial, AuthVerdict verdict) override;
  // WillPublisher: a will published now (its connection ended, or its delay passed).
  void publish_will(const ClientName& who, PublishedMessage* will) override;

 private:
  // Framing and dispatch (client_protocol.cpp).
  void consume(Connection& c, std::span<const std::byte> data);
  void consume_stashed(Connection& c);
  bool handle_frame(Connection& c, std::span<const std::byte> frame, std::size_t header_size);
  void handle_packet(Connection& c, const core::Packet& p);
  void protocol_error(Connection& c, core::ReasonCode reason, std::string_view why);
  // CONNECT to CONNACK, and back to the session at the end (connect_flow.cpp).
  void handle_connect(Connection& c, const core::Connect& p);
  void refuse_connect(Connection& c, AuthVerdict verdict);
  void start_attach(Connection& c, AttachRequest* req);
  void complete_connect(Connection& c, const AttachReply& reply);
  void log_connected(const Connection& c, bool session_present);
  void resume_later(Connection& c);
  void resume_connections();
  void detach_from_session(Connection& c, PublishedMessage* delayed_will, std::uint32_t delay_s);
  void send_detach(unsigned home, DetachNotice* notice);
  void to_home(Connection& c, ShardEnvelope::Kind kind, void* request);
  // MQTT 5 enhanced authentication: AUTH packets until the method decides, at CONNECT and on
  // re-authentication (enhanced_auth_flow.cpp).
  void start_enhanced_auth(Connection& c, const core::Connect& p);
  void handle_auth(Connection& c, const core::Auth& p);
  void answer_auth_step(Connection& c, AuthStep step);
  void send_connack(Connection& c, core::ConnAck& ack);
  void forget_enhanced_auth(const Connection& c);
  // PUBLISH, SUBSCRIBE, UNSUBSCRIBE, wills (publish_flow.cpp).
  void handle_publish(Connection& c, const core::Publish& p);
  // A PUBLISH with a Topic Alias: its topic, and its properties without the alias (for
  // the subscribers); false when the alias is invalid and the connection is closing
  // (publish_aliases.cpp).
  bool resolve_topic_alias(Connection& c, const core::Publish& p, std::string_view& topic,
                           std::string_view& properties);
  void handle_subscribe(Connection& c, const core::Subscribe& p);
  void handle_unsubscribe(Connection& c, const core::Unsubscribe& p);
  void handle_pubrel(Connection& c, std::uint16_t packet_id);
  void store_inbound_qos2(Connection& c, std::uint16_t packet_id, bool received);
  void acknowledge(Connection& c, std::uint32_t ack, std::uint64_t tickets_before);
  void handle_client_ack(Connection& c, core::PacketType type, std::uint16_t packet_id);
  void send_publish_ack(Connection& c, std::uint32_t ack);
  bool refuse_unstored(Connection& c, std::uint32_t ack, core::ReasonCode reason);
  void send_refusal(Connection& c, std::uint16_t packet_id, std::uint8_t qos,
                    core::ReasonCode reason, std::string_view why);
  void refuse_publish(Connection& c, std::uint16_t packet_id, std::uint8_t qos,
                      core::ReasonCode reason);
  ConnectionRef self(const Connection& c) const;
  // What limits.* refuses or slows down (limits_flow.cpp). False: not to be handled further
  // (answered, or closing).
  bool connect_within_limits(Connection& c, const core::Connect& p);
  // `topic`: the PUBLISH's, or its Topic Alias's.
  bool publish_within_limits(Connection& c, const core::Publish& p, std::string_view topic);
  void charge_publish(Connection& c, const core::Publish& p);
  void resume_throttled();
  std::string source_address(const Connection& c) const;

  ShardContext& ctx_;
  // Copied from the context: one load each on the message path, not two.
  const Config& config_;
  ShardCounters& counters_;
  std::uint64_t rx_us_ = 0;  // the turn the bytes being handled arrived in (DeliveryLatency)
  const unsigned id_;
  // Derived from the limits (settings_changed): each switched-off check is one branch.
  bool limits_topics_ = false;   // limits.max_topic_length or max_topic_levels is set
  bool publish_limits_ = false;  // any limit on a PUBLISH (topic, size, retain, rates)
  bool connect_limits_ = false;  // any limit on a CONNECT (will size or retain, connect rate)
  ConnectionTable& connections_;
  SessionStore& sessions_;
  Router& router_;
  MeshLink& mesh_;
  AccessControl& access_;
  StorageLink& storage_;

  // CONNECTs waiting for their verdict, by connection serial (a login storm holds thousands).
  std::unordered_map<std::uint32_t, AttachRequest*> authenticating_;
  std::vector<std::pair<Connection*, std::uint32_t>> resume_list_;  // answered by their home
  std::vector<Connection*> held_ack_connections_;
  // The Session Expiry Interval of the DISCONNECT being handled, for the detach it causes.
  std::optional<std::uint32_t> disconnect_expiry_s_;
  // Clients that logged in with an authentication method (for re-authentication), by serial.
  struct EnhancedAuth {
    AuthMethod* method = nullptr;
    std::unique_ptr<AuthExchange> exchange;  // null between exchanges
    std::string reply;                       // the verdict's data, until the CONNACK takes it
    std::string address;                     // the source address, for failure limits
  };
  std::unordered_map<std::uint32_t, EnhancedAuth> enhanced_auth_;
  std::uint64_t next_assigned_id_ = 1;
  core::Packet scratch_packet_;          // the packet being handled; views into the receive buffer
  std::string alias_properties_;         // its properties without a Topic Alias, while it is routed
  io::ByteBlock layer_app_;              // plaintext out of a connection's TLS/WebSocket layer
  ConnectRate connect_rate_;             // limits.max_connect_rate, per source address
  io::TimerWheel throttle_timers_{256};  // PublishThrottle::resume
  std::vector<std::pair<Connection*, std::uint32_t>> unthrottled_;  // read again at turn end
  std::string expiry_scratch_;  // a delivery's properties with the Message Expiry left
};

}  // namespace shardmq::broker
