#include "broker/auth/access_control.hpp"

#include "broker/auth/acl_authoriser.hpp"
#include "broker/auth/auth_services.hpp"
#include "broker/auth/password_authenticator.hpp"
#include "broker/auth/scram_method.hpp"

namespace shardmq::broker {

AccessControl::AccessControl(std::unique_ptr<Authenticator> authenticator,
                             std::unique_ptr<AclAuthoriser> acl, AuthServices& services)
    : authenticator_(std::move(authenticator)),
      restricts_(true),
      services_(&services),
      acl_(acl.get()),
      generation_(services.generation()) {
  authoriser_ = std::move(acl);
}

AccessControl::~AccessControl() = default;

Authoriser& AccessControl::current() {
  if (services_) {
    const std::uint64_t g = services_->generation();
    if (g != generation_) {
      generation_ = g;
      if (auto rules = services_->acl()) acl_->replace_rules(std::move(rules));
    }
  }
  return *authoriser_;
}

bool AccessControl::ask_publish(const ClientName& who, std::string_view topic) {
  return current().may_publish(identity_of(who), topic);
}
bool AccessControl::ask_subscribe(const ClientName& who, std::string_view filter) {
  return current().may_subscribe(identity_of(who), filter);
}
bool AccessControl::ask_receive(const ClientName& who, std::string_view topic) {
  return current().may_receive(identity_of(who), topic);
}

std::unique_ptr<AccessControl> make_access_control(const Config& config, AuthServices* services,
                                                   std::function<void()> wake) {
  std::unique_ptr<Authenticator> authenticator;
  if (services && config.authenticates())
    authenticator = std::make_unique<PasswordAuthenticator>(config, *services, std::move(wake));
  else
    authenticator = std::make_unique<AllowAllAuthenticator>();
  std::unique_ptr<AccessControl> access;
  if (services && services->acl())
    access = std::make_unique<AccessControl>(
        std::move(authenticator), std::make_unique<AclAuthoriser>(services->acl()), *services);
  else
    access = std::make_unique<AccessControl>(std::move(authenticator),
                                             std::make_unique<AllowAllAuthoriser>());
  if (services && services->passwords() && config.auth.scram)
    access->offer_method(std::make_unique<ScramSha256Method>(
        [services] { return services->passwords(); }, config.auth));
  return access;
}

}  // namespace shardmq::broker
