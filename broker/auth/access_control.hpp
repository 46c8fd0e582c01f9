// A shard's access control: its authenticator and authoriser, built from the configuration
// (make_access_control), one per shard so an implementation may cache without locks. The
// checks are inline: with no restriction configured they are one predictable branch.
//
// Owns: the authenticator and the authoriser. Called by: the protocol (CONNECT, PUBLISH,
// SUBSCRIBE, wills) and the session store (each delivery).
#pragma once

#include <memory>
#include <string_view>

#include "broker/auth/authenticator.hpp"
#include "broker/auth/authoriser.hpp"
#include "broker/config/config.hpp"

namespace shardmq::broker {

class AccessControl {
 public:
  AccessControl(std::unique_ptr<Authenticator> authenticator,
                std::unique_ptr<Authoriser> authoriser)
      : authenticator_(std::move(authenticator)),
        authoriser_(std::move(authoriser)),
        restricts_(authoriser_->restricts()) {}

  Authenticator& authenticator() { return *authenticator_; }
  bool may_publish(const ClientIdentity& who, std::string_view topic) {
    return !restricts_ || authoriser_->may_publish(who, topic);
  }
  bool may_subscribe(const ClientIdentity& who, std::string_view filter) {
    return !restricts_ || authoriser_->may_subscribe(who, filter);
  }
  bool may_receive(const ClientIdentity& who, std::string_view topic) {
    return !restricts_ || authoriser_->may_receive(who, topic);
  }

 private:
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<Authoriser> authoriser_;
  bool restricts_;
};

// What the configuration asks for; today always everyone-may-do-anything.
std::unique_ptr<AccessControl> make_access_control(const Config& config);

}  // namespace shardmq::broker
