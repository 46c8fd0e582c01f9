// MQTT 5 enhanced authentication (specification section 4.12): a CONNECT that names an
// Authentication Method trades AUTH packets with the method (auth_method.hpp) until it accepts
// (the CONNACK carries its last Authentication Data) or refuses (CONNACK 0x86/0x87; 0x8C for a
// method not offered). A client that logged in so may run the exchange again while connected
// (AUTH 0x19); it must end with the same user, or the client is disconnected (0x87).
#include "broker/auth/access_control.hpp"
#include "broker/connection/client_protocol.hpp"
#include "broker/connection/connection_table.hpp"
#include "broker/log.hpp"

namespace shardmq::broker {

using core::ReasonCode;
using CloseKind = ConnectionTable::CloseKind;
using Outcome = AuthStep::Outcome;

void ClientProtocol::start_enhanced_auth(Connection& c, const core::Connect& p) {
  const std::string_view name = *p.properties.authentication_method;
  AuthMethod* method = access_.auth_method(name);
  if (!method) {
    log_info("login refused for client '{}': authentication method '{}' is not offered",
             c.client_id.view(), name);
    return on_authenticated(c.serial, AuthVerdict::bad_method);
  }
  EnhancedAuth& a = enhanced_auth_[c.serial];
  a.method = method;
  std::string proxied = c.layer ? c.layer->peer_source_address() : std::string();
  a.address = proxied.empty() ? std::string(connections_.peer_address(c)) : std::move(proxied);
  a.exchange = method->start(a.address);
  answer_auth_step(c, a.exchange->step(p.properties.authentication_data.value_or(core::Bytes{})));
}

void ClientProtocol::handle_auth(Connection& c, const core::Auth& p) {
  auto it = enhanced_auth_.find(c.serial);
  if (it == enhanced_auth_.end())
    return protocol_error(c, ReasonCode::ProtocolError, "AUTH without an authentication method");
  EnhancedAuth& a = it->second;
  if (p.properties.authentication_method != a.method->name())
    return protocol_error(c, ReasonCode::ProtocolError,
                          "AUTH names another authentication method than CONNECT");
  if (p.reason_code == ReasonCode::ReAuthenticate && c.state == Connection::State::connected &&
      !a.exchange) {
    a.exchange = a.method->start(a.address);
  } else if (p.reason_code != ReasonCode::ContinueAuthentication || !a.exchange) {
    return protocol_error(c, ReasonCode::ProtocolError, "AUTH out of place in the exchange");
  }
  answer_auth_step(c, a.exchange->step(p.properties.authentication_data.value_or(core::Bytes{})));
}

void ClientProtocol::answer_auth_step(Connection& c, AuthStep step) {
  auto it = enhanced_auth_.find(c.serial);
  EnhancedAuth& a = it->second;
  const bool connecting = c.state == Connection::State::authenticating;
  if (step.outcome == Outcome::more) {
    core::Auth more;
    more.reason_code = ReasonCode::ContinueAuthentication;
    more.properties.authentication_method = a.method->name();
    more.properties.authentication_data = core::as_bytes(step.data);
    connections_.send_packet(c, more);
    if (connecting) {
      c.home_paused = false;  // the client's AUTH may come now
      connections_.update_receive_pause(c);
    }
    return;
  }
  a.exchange.reset();
  if (step.outcome == Outcome::accepted && connecting) {
    // Who the method vouches for is the user access checks ask about, whatever CONNECT said.
    const std::string id(c.client_id.view());
    c.client_id.assign(id, step.username);
    if (auto waiting = authenticating_.find(c.serial); waiting != authenticating_.end())
      waiting->second->username = step.username;
    a.reply = std::move(step.data);
    c.home_paused = true;  // until the session's home shard answers
    connections_.update_receive_pause(c);
    log_debug("client '{}' authenticated as '{}' by {}", id, step.username, a.method->name());
    return on_authenticated(c.serial, AuthVerdict::accepted);
  }
  if (step.outcome == Outcome::accepted) {
    if (c.client_id.username() != std::optional<std::string_view>(step.username)) {
      log_info("closing client '{}': re-authenticated as another user ('{}')", c.client_id.view(),
               step.username);
      connections_.send_disconnect(c, ReasonCode::NotAuthorized);
      return connections_.close(c, CloseKind::graceful);
    }
    core::Auth done;
    done.reason_code = ReasonCode::Success;
    done.properties.authentication_method = a.method->name();
    done.properties.authentication_data = core::as_bytes(step.data);
    connections_.send_packet(c, done);
    return;
  }
  log_info("login refused for client '{}' from {}: {} ({})", c.client_id.view(),
           a.address.empty() ? "?" : a.address, step.why, a.method->name());
  if (!connecting) {
    connections_.send_disconnect(c, ReasonCode::NotAuthorized);
    return connections_.close(c, CloseKind::graceful);
  }
  enhanced_auth_.erase(it);
  on_authenticated(c.serial, step.outcome == Outcome::bad_credentials
                                 ? AuthVerdict::bad_credentials
                                 : AuthVerdict::not_authorised);
}

// The CONNACK of a client that logged in with a method names it and carries its last word.
void ClientProtocol::send_connack(Connection& c, core::ConnAck& ack) {
  auto it = enhanced_auth_.empty() ? enhanced_auth_.end() : enhanced_auth_.find(c.serial);
  if (it == enhanced_auth_.end()) {
    connections_.send_packet(c, ack);
    return;
  }
  ack.properties.authentication_method = it->second.method->name();
  if (!it->second.reply.empty())
    ack.properties.authentication_data = core::as_bytes(it->second.reply);
  connections_.send_packet(c, ack);
  std::string().swap(it->second.reply);
}

// The connection is gone: its exchange, and a CONNECT that was waiting for it.
void ClientProtocol::forget_enhanced_auth(const Connection& c) {
  if (enhanced_auth_.erase(c.serial) == 0) return;
  if (auto it = authenticating_.find(c.serial); it != authenticating_.end()) {
    delete it->second;
    authenticating_.erase(it);
  }
}

}  // namespace shardmq::broker
