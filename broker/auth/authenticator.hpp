// Who may connect. Asked once per CONNECT, on the shard's loop; the answer may come later
// (a password hash takes milliseconds and must not run on the loop: an implementation
// hands it to a worker and posts the verdict back to the shard's thread). The connection
// reads nothing more from its client until the answer arrives; the shard's other clients are
// served meanwhile.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/mqtt_types.hpp"

namespace shardmq::broker {

// What the client says it is. Views into the CONNECT being handled: valid only during
// authenticate(); an implementation that answers later copies what it needs.
struct ConnectCredentials {
  std::string_view client_id;
  std::optional<std::string_view> username;
  std::optional<std::span<const std::byte>> password;
  std::string_view peer_address;  // the source address (IP), for logs and failure limits
  // The user name is a verified client certificate's (use_identity_as_username or
  // use_subject_as_username): the certificate is the credential, no password is checked.
  bool certificate_user = false;
  std::uint16_t listener = 0;  // index into the configured listeners
  core::ProtocolVersion version = core::ProtocolVersion::v311;
};

enum class AuthVerdict : std::uint8_t {
  accepted,
  bad_credentials,  // 3.1.1 CONNACK 4, 5.0 0x86
  not_authorised,   // 3.1.1 CONNACK 5, 5.0 0x87
  bad_method,       // 5.0 only: an Authentication Method the broker does not offer, 0x8C
};

// Where verdicts go: the protocol side of the shard. Called on the shard's thread only.
class AuthWaiter {
 public:
  virtual ~AuthWaiter() = default;
  virtual void on_authenticated(std::uint32_t connection_serial, AuthVerdict verdict) = 0;
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Answers `waiter.on_authenticated(serial, ...)` exactly once: inside this call, or later
  // on the same thread.
  virtual void authenticate(const ConnectCredentials& who, std::uint32_t serial,
                            AuthWaiter& waiter) = 0;
  // Called by the shard at the end of each turn: hands over the verdicts that came back
  // from elsewhere (a worker thread) since the last turn.
  virtual void deliver_answers() {}
  // Whether verdicts may come later (deliver_answers has work); false: always at once.
  virtual bool answers_later() const { return false; }
};

// The default until a password file is configured: everyone may connect.
class AllowAllAuthenticator final : public Authenticator {
 public:
  void authenticate(const ConnectCredentials&, std::uint32_t serial, AuthWaiter& waiter) override {
    waiter.on_authenticated(serial, AuthVerdict::accepted);
  }
};

}  // namespace shardmq::broker
