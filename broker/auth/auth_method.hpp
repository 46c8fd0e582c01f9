// MQTT 5 enhanced authentication (specification section 4.12): a CONNECT names an
// Authentication Method, and client and broker trade Authentication Data (in the CONNECT, then
// in AUTH packets) until the method accepts or refuses; the CONNACK carries its last word. The
// same exchange may run again on a connected client (re-authentication, AUTH reason 0x19).
//
// A method answers each step on the spot, on the shard's loop: it must be cheap (SCRAM's check
// is three SHA-256 computations, scram_keys.hpp). A method whose check could block would need
// the worker hand-off PasswordAuthenticator does; none does yet.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace shardmq::broker {

struct AuthStep {
  enum class Outcome : std::uint8_t {
    more,             // send `data` in AUTH (0x18 Continue authentication), await the reply
    accepted,         // `username` is who the client is; `data` goes in the CONNACK (or AUTH 0x00)
    bad_credentials,  // CONNACK 0x86
    not_authorised,   // CONNACK 0x87
  };
  Outcome outcome = Outcome::not_authorised;
  std::string data;      // Authentication Data for the client; may be empty
  std::string username;  // accepted: the user the method vouches for
  std::string why;       // refused: for the log (never a secret)
};

// One client's exchange, from its first Authentication Data to the verdict.
class AuthExchange {
 public:
  virtual ~AuthExchange() = default;
  virtual AuthStep step(std::span<const std::byte> client_data) = 0;
};

class AuthMethod {
 public:
  virtual ~AuthMethod() = default;
  virtual std::string_view name() const = 0;  // the Authentication Method, e.g. "SCRAM-SHA-256"
  // `peer_address` (the source IP) counts failed logins and names the client in the log.
  virtual std::unique_ptr<AuthExchange> start(std::string_view peer_address) = 0;
};

}  // namespace shardmq::broker
