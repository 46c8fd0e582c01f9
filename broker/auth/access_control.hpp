// A shard's access control: its authenticator and authoriser, built from the configuration
// (make_access_control), one per shard so an implementation may cache without locks. The
// checks are inline: with no restriction configured they are one predictable branch.
//
// Owns: the authenticator and the authoriser. Called by: the protocol (CONNECT, PUBLISH,
// SUBSCRIBE, wills) and the session store (each delivery).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "broker/auth/auth_method.hpp"
#include "broker/auth/authenticator.hpp"
#include "broker/auth/authoriser.hpp"
#include "broker/config/config.hpp"
#include "broker/containers/client_name.hpp"

namespace shardmq::broker {

// The identity access checks ask about: a connection's or a session's name.
inline ClientIdentity identity_of(const ClientName& n) {
  return ClientIdentity{n.view(), n.username()};
}

class AclAuthoriser;
class AuthServices;

class AccessControl {
 public:
  AccessControl(std::unique_ptr<Authenticator> authenticator,
                std::unique_ptr<Authoriser> authoriser)
      : authenticator_(std::move(authenticator)),
        authoriser_(std::move(authoriser)),
        restricts_(authoriser_->restricts()) {}
  // With the broker's shared files: an ACL authoriser follows their reloads.
  AccessControl(std::unique_ptr<Authenticator> authenticator, std::unique_ptr<AclAuthoriser> acl,
                AuthServices& services);
  ~AccessControl();

  Authenticator& authenticator() { return *authenticator_; }
  // The enhanced authentication method a CONNECT names (MQTT 5); null when none is offered
  // by that name (CONNACK 0x8C).
  AuthMethod* auth_method(std::string_view name) {
    return method_ && name == method_->name() ? method_.get() : nullptr;
  }
  void offer_method(std::unique_ptr<AuthMethod> method) { method_ = std::move(method); }
  // End of turn: verdicts that came back from the hash workers (a flag test otherwise).
  void deliver_answers() {
    if (answers_later_) authenticator_->deliver_answers();
  }
  // Each takes the client's name, not an identity made from it, and asks the authoriser
  // out of line: with no restriction the message path reads one flag and branches.
  bool may_publish(const ClientName& who, std::string_view topic) {
    return !restricts_ || ask_publish(who, topic);
  }
  bool may_subscribe(const ClientName& who, std::string_view filter) {
    return !restricts_ || ask_subscribe(who, filter);
  }
  bool may_receive(const ClientName& who, std::string_view topic) {
    return !restricts_ || ask_receive(who, topic);
  }

 private:
  [[gnu::noinline]] bool ask_publish(const ClientName& who, std::string_view topic);
  [[gnu::noinline]] bool ask_subscribe(const ClientName& who, std::string_view filter);
  [[gnu::noinline]] bool ask_receive(const ClientName& who, std::string_view topic);
  Authoriser& current();  // after a reload of the files, with the new rules

  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<Authoriser> authoriser_;
  std::unique_ptr<AuthMethod> method_;  // SCRAM-SHA-256 when configured
  bool restricts_;
  bool answers_later_ = authenticator_->answers_later();
  AuthServices* services_ = nullptr;
  AclAuthoriser* acl_ = nullptr;  // authoriser_, when it is the ACL's
  std::uint64_t generation_ = 0;
};

// What the configuration asks for: a password authenticator when a password file is set or
// anonymous clients are refused anywhere, SCRAM-SHA-256 against the password file unless
// [auth] scram is off, an ACL authoriser when an ACL file is set, and allow-all for what is
// not configured. `services` may be null (allow-all throughout);
// `wake` makes the shard's loop turn, for verdicts that come from the hash workers.
std::unique_ptr<AccessControl> make_access_control(const Config& config, AuthServices* services,
                                                   std::function<void()> wake);

}  // namespace shardmq::broker
