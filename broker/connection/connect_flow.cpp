// CONNECT to CONNACK: the authenticator's verdict, then the session's home shard (this one
// or another, by the client identifier's hash) attaches the session and answers; and at the
// end, the connection hands the session back.
#include <xxhash.h>

#include <algorithm>
#include <string>

#include "broker/auth/access_control.hpp"
#include "broker/config/config.hpp"
#include "broker/connection/client_protocol.hpp"
#include "broker/connection/connection_table.hpp"
#include "broker/log.hpp"
#include "broker/mesh/mesh_link.hpp"
#include "broker/session/session_store.hpp"
#include "broker/storage/storage_link.hpp"

namespace shardmq::broker {

using core::ProtocolVersion;
using core::ReasonCode;
using CloseKind = ConnectionTable::CloseKind;

void ClientProtocol::handle_connect(Connection& c, const core::Connect& p) {
  c.version = p.version;
  std::string client_id(p.client_id);
  bool assigned = false;
  if (client_id.empty()) {
    // 3.1 requires an identifier; 3.1.1 allows none only with a clean session.
    if (p.version == ProtocolVersion::v31 ||
        (p.version == ProtocolVersion::v311 && !p.clean_start)) {
      core::ConnAck ack;
      ack.reason_code = static_cast<ReasonCode>(core::ConnectReturnCode::IdentifierRejected);
      connections_.send_packet(c, ack);
      ShardCounters::bump(counters_.protocol_errors);
      counters_.refuse(RefuseReason::protocol);
      log_info("refusing CONNECT without a client identifier (MQTT {}{})",
               static_cast<unsigned>(p.version), p.clean_start ? "" : ", persistent session");
      connections_.close(c, CloseKind::graceful);
      return;
    }
    client_id = fmt::format("auto-{:x}-{:x}", id_, next_assigned_id_++);
    assigned = p.version == ProtocolVersion::v5;
  }
  // The user name access checks ask about: from a verified client certificate where the
  // listener says so (Mosquitto's use_identity_as_username / use_subject_as_username).
  const ListenerConfig* listener =
      c.listener < config_.listeners.size() ? &config_.listeners[c.listener] : nullptr;
  std::optional<std::string_view> username = p.username;
  std::string certificate_user;
  const bool from_certificate =
      listener && (listener->use_identity_as_username || listener->use_subject_as_username);
  if (from_certificate) {
    if (c.layer)
      certificate_user = listener->use_subject_as_username ? c.layer->peer_certificate_subject()
                                                           : c.layer->peer_certificate_name();
    if (certificate_user.empty()) {
      log_info(
          "refusing CONNECT from {}: no verified client certificate to take the user name from",
          connections_.peer_address(c).empty() ? "a client" : connections_.peer_address(c));
      return refuse_connect(c, AuthVerdict::not_authorised);
    }
    username = certificate_user;
  }
  c.client_id.assign(client_id, username);
  c.max_packet_out =
      p.version == ProtocolVersion::v5 ? p.properties.maximum_packet_size.value_or(0) : 0;
  if (p.version == ProtocolVersion::v5) {
    c.alias_out_max =
        std::min(p.properties.topic_alias_maximum.value_or(0), config_.max_topic_aliases_out);
    c.problem_info = p.properties.request_problem_information.value_or(1) != 0;
    c.wants_response_info = p.properties.request_response_information.value_or(0) != 0;
  }
  c.keepalive_s = p.keep_alive;
  if (p.version == ProtocolVersion::v5 && c.keepalive_s > config_.max_keepalive)
    c.keepalive_s = config_.max_keepalive;
  c.id_assigned = assigned;
  if (p.will) {
    std::string_view will_props = p.version == ProtocolVersion::v5
                                      ? core::as_string_view(p.will->properties.raw)
                                      : std::string_view{};
    c.will =
        PublishedMessage::create(p.will->topic, will_props, core::as_string_view(p.will->payload),
                                 static_cast<std::uint8_t>(p.will->qos), p.will->retain, 0);
  }

  auto* req = new AttachRequest;
  req->client_id = std::move(client_id);
  if (username) req->username.emplace(*username);
  req->connection = self(c);
  req->version = p.version;
  req->clean_start = p.clean_start;
  if (p.version == ProtocolVersion::v5) {
    req->session_expiry_s = p.properties.session_expiry_interval.value_or(0);
    c.session_expiry_zero = req->session_expiry_s == 0;
    req->receive_maximum = p.properties.receive_maximum.value_or(65535);
  } else {
    req->session_expiry_s = p.clean_start ? 0 : 0xFFFFFFFFu;  // 3.1.1: kept until clean
    c.session_expiry_zero = p.clean_start;
  }
  if (c.will && storage_.stores() && !c.session_expiry_zero) {
    c.will->add_ref();
    req->will = MessageRef(c.will);
  }
  // Nothing more is read from the client until the verdict (and then the home shard) answers.
  c.state = Connection::State::authenticating;
  c.home_paused = true;
  connections_.update_receive_pause(c);
  authenticating_.emplace(c.serial, req);
  connections_.arm_login_deadline(c, config_.auth.login_timeout_s);
  if (p.version == ProtocolVersion::v5 && p.properties.authentication_method)
    return start_enhanced_auth(c, p);
  if (p.properties.authentication_data)
    return protocol_error(c, ReasonCode::ProtocolError,
                          "Authentication Data without an Authentication Method");
  ConnectCredentials who;
  who.client_id = c.client_id.view();
  // The views below point into the CONNECT and the name just assigned: valid for this call.
  who.username = username;
  who.password = p.password;
  who.certificate_user = from_certificate;
  // Behind a load balancer the PROXY header names the client; the socket, the balancer.
  std::string proxied = c.layer ? c.layer->peer_source_address() : std::string();
  who.peer_address = proxied.empty() ? connections_.peer_address(c) : std::string_view(proxied);
  who.listener = c.listener;
  who.version = p.version;
  access_.authenticator().authenticate(who, c.serial, *this);  // may answer at once
}

void ClientProtocol::on_authenticated(std::uint32_t serial, AuthVerdict verdict) {
  auto it = authenticating_.find(serial);
  if (it == authenticating_.end()) return;
  AttachRequest* req = it->second;
  authenticating_.erase(it);
  Connection* c = connections_.find(serial);
  if (!c || c->state != Connection::State::authenticating) {
    delete req;  // the connection went while its credentials were checked
    return;
  }
  ShardCounters::bump(verdict == AuthVerdict::accepted ? counters_.auth_success
                                                       : counters_.auth_failure);
  if (verdict != AuthVerdict::accepted) {
    delete req;
    return refuse_connect(*c, verdict);
  }
  start_attach(*c, req);
}

void ClientProtocol::refuse_connect(Connection& c, AuthVerdict verdict) {
  core::ConnAck ack;
  const bool bad = verdict == AuthVerdict::bad_credentials;
  counters_.refuse(bad                                  ? RefuseReason::bad_credentials
                   : verdict == AuthVerdict::bad_method ? RefuseReason::protocol
                                                        : RefuseReason::not_authorized);
  // As Mosquitto answers: 5.0 tells a bad password (0x86) from a refusal (0x87); 3.1.1
  // answers both with 5 (not authorised), never 4.
  if (c.version == ProtocolVersion::v5 && verdict == AuthVerdict::bad_method)
    ack.reason_code = ReasonCode::BadAuthenticationMethod;
  else if (c.version == ProtocolVersion::v5)
    ack.reason_code = bad ? ReasonCode::BadUserNameOrPassword : ReasonCode::NotAuthorized;
  else
    ack.reason_code = static_cast<ReasonCode>(core::ConnectReturnCode::NotAuthorized);
  connections_.send_packet(c, ack);
  log_debug("refused client '{}': {}", c.client_id.view(),
            bad                                  ? "bad user name or password"
            : verdict == AuthVerdict::bad_method ? "authentication method not offered"
                                                 : "not authorised");
  connections_.close(c, CloseKind::graceful);
}

void ClientProtocol::start_attach(Connection& c, AttachRequest* req) {
  c.home = static_cast<std::uint16_t>(XXH3_64bits(req->client_id.data(), req->client_id.size()) %
                                      ctx_.shards);
  c.state = Connection::State::attaching;
  if (c.home == id_) return sessions_.attach(req);  // may complete synchronously
  to_home(c, ShardEnvelope::Kind::attach, req);
}

void ClientProtocol::to_home(Connection& c, ShardEnvelope::Kind kind, void* request) {
  mesh_.push(c.home, ShardEnvelope{kind, 0, ctx_.self(), 0, request}, nullptr);
}

// The home shard answered the CONNECT (from its shard `from`).
void ClientProtocol::on_attached(AttachReply& reply, unsigned from) {
  Connection* c = connections_.find(reply.connection.serial);
  if (c && c->state == Connection::State::attaching) return complete_connect(*c, reply);
  if (!reply.session) return;
  // The connection went while its CONNECT was on the way: let the session go.
  auto* n = new DetachNotice;
  n->session = reply.session;
  n->connection = reply.connection;
  n->qos2_awaiting_rel = std::move(reply.qos2_awaiting_rel);
  send_detach(from, n);
}

void ClientProtocol::send_detach(unsigned home, DetachNotice* n) {
  if (home == id_) return sessions_.detach(n);
  mesh_.push(home, ShardEnvelope{ShardEnvelope::Kind::detach, 0, ctx_.self(), 0, n}, nullptr);
}

void ClientProtocol::complete_connect(Connection& c, const AttachReply& reply) {
  const Config& config = config_;
  core::ConnAck ack;
  std::string response_information;
  if (!reply.session) {
    // A newer CONNECT for the same client identifier won the race.
    ack.reason_code = c.version == ProtocolVersion::v5
                          ? ReasonCode::SessionTakenOver
                          : static_cast<ReasonCode>(core::ConnectReturnCode::ServerUnavailable);
    connections_.send_packet(c, ack);
    connections_.close(c, CloseKind::graceful);
    return;
  }
  c.session = reply.session;
  c.session_attached = true;
  if (c.home == id_) sessions_.bind_local_connection(*c.session, &c);
  if (!reply.qos2_awaiting_rel.empty()) {
    c.inbound_qos().qos2_awaiting_rel = reply.qos2_awaiting_rel;
    c.inbound->inherited = static_cast<std::uint16_t>(reply.qos2_awaiting_rel.size());
  }
  c.state = Connection::State::connected;
  ack.session_present = reply.session_present;
  if (c.version == ProtocolVersion::v5) {
    if (c.id_assigned) ack.properties.assigned_client_identifier = c.client_id.view();
    if (!config.retain_available) ack.properties.retain_available = 0;  // absent: available
    ack.properties.shared_subscription_available = config.shared_subscriptions ? 1 : 0;
    ack.properties.receive_maximum = config.max_inflight;
    if (c.keepalive_s != 0 && c.keepalive_s == config.max_keepalive)
      ack.properties.server_keep_alive = c.keepalive_s;
    if (config.max_packet_size < core::kMaxRemainingLength)
      ack.properties.maximum_packet_size = config.max_packet_size;
    // Absent means 0: no alias may be used.
    if (config.max_topic_aliases) ack.properties.topic_alias_maximum = config.max_topic_aliases;
    // Wildcard subscriptions and Subscription Identifiers are supported: absent means so.
    if (c.wants_response_info && !config.response_information.empty()) {
      response_information = config.response_information + std::string(c.client_id.view());
      ack.properties.response_information = response_information;
    }
  }
  send_connack(c, ack);
  log_connected(c, reply.session_present);
  connections_.forget_peer_address(c);
  connections_.arm_keepalive(c);
  ShardCounters::bump(counters_.clients_total);
  ShardCounters::bump(counters_.clients_connected);
  resume_later(c);
}

// One line per connect: who, from where, on which listener, how (docs/operations.md, Logs).
void ClientProtocol::log_connected(const Connection& c, bool session_present) {
  if (log_level() > LogLevel::info) return;
  const std::string_view address = connections_.peer_address(c);
  // A PROXY header's source address, or the client certificate's name.
  const std::string who = c.layer ? c.layer->peer_identity() : std::string();
  const auto& listeners = config_.listeners;
  const std::optional<std::string_view> user = c.client_id.username();
  log_info(
      "client '{}' connected from {}{}{} on {} (protocol level {}, user {}, keepalive {} s, "
      "session {})",
      c.client_id.view(), address.empty() ? "?" : address, who.empty() ? "" : " as ", who,
      c.listener < listeners.size() ? listener_url(listeners[c.listener]) : "?",
      static_cast<unsigned>(c.version), user ? fmt::format("'{}'", *user) : "none", c.keepalive_s,
      session_present ? "resumed" : "new");
}

// The home shard has answered: handle what the client sent meanwhile, at the end of this
// turn rather than here, since this may run inside the session code that answered (a
// local home shard) and the stashed packets may end the very session it is working on.
void ClientProtocol::resume_later(Connection& c) {
  resume_list_.emplace_back(&c, c.serial);
}

void ClientProtocol::resume_connections() {
  auto list = std::move(resume_list_);
  resume_list_.clear();
  for (auto [c, serial] : list) {
    if (connections_.find(serial) != c || c->state != Connection::State::connected) continue;
    if (c->throttled) continue;  // paused for its publish rate: resume_throttled goes on
    c->home_paused = false;
    consume_stashed(*c);
    connections_.update_receive_pause(*c);
  }
}

// The connection is going: the home shard keeps (or ends) the session, and holds a will with
// a Will Delay (one reference, taken) until the delay or the session's end.
void ClientProtocol::detach_from_session(Connection& c, PublishedMessage* delayed_will,
                                         std::uint32_t delay_s) {
  const std::optional<std::uint32_t> expiry = std::exchange(disconnect_expiry_s_, std::nullopt);
  if (c.state == Connection::State::awaiting_connect || c.client_id.empty() ||
      !c.session_attached) {  // (attach still in flight: answered in on_attached)
    if (delayed_will) publish_will(c.client_id, delayed_will);  // no session to wait with
    return;
  }
  c.session_attached = false;
  auto* n = new DetachNotice;
  n->session = c.session;
  n->connection = self(c);
  if (c.inbound) n->qos2_awaiting_rel = std::move(c.inbound->qos2_awaiting_rel);
  n->session_expiry_s = expiry;
  n->will = delayed_will;
  n->will_delay_s = delay_s;
  send_detach(c.home, n);
}

}  // namespace shardmq::broker
