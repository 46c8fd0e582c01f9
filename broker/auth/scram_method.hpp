// SCRAM-SHA-256 (RFC 5802, RFC 7677) as an MQTT 5 enhanced authentication method, against the
// SCRAM-SHA-256$ entries of the password file. Three messages:
//   CONNECT  Authentication Data  client-first   n,,n=USER,r=CLIENT-NONCE
//   AUTH 0x18 (broker)            server-first   r=CLIENT-NONCE+SERVER-NONCE,s=SALT,i=ITERATIONS
//   AUTH 0x18 (client)            client-final   c=biws,r=NONCE,p=PROOF
//   CONNACK 0x00                  server-final   v=SERVER-SIGNATURE
// The client proves it knows the password without sending it; the broker proves it holds the
// user's keys. No channel binding: a client asking for it (p=...) is refused, one that could
// (y,,) is served. A user the file does not list, or lists with another kind of hash, gets a
// made-up salt that is always the same for the same name, so the exchange does not tell who
// exists; it fails at the proof like a wrong password. Failed logins count per source address
// (LoginFailures), as for passwords.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "broker/auth/auth_method.hpp"
#include "broker/auth/login_failures.hpp"
#include "broker/auth/password_file.hpp"

namespace shardmq::broker {

class ScramSha256Method final : public AuthMethod {
 public:
  using PasswordSource = std::function<std::shared_ptr<const PasswordFile>()>;
  using NonceSource = std::function<std::string()>;

  // `passwords` gives the current password file (after a reload, the new one); `nonce` makes
  // the server's half of each nonce (default: 18 random bytes in base64).
  ScramSha256Method(PasswordSource passwords, const AuthConfig& config, NonceSource nonce = {});

  std::string_view name() const override { return "SCRAM-SHA-256"; }
  std::unique_ptr<AuthExchange> start(std::string_view peer_address) override;

 private:
  class Exchange;

  PasswordSource passwords_;
  NonceSource nonce_;
  LoginFailures failures_;
  std::string secret_;  // random per process: seeds the made-up salts of unknown users
};

}  // namespace shardmq::broker
