#include "broker/auth/access_control.hpp"

namespace shardmq::broker {

std::unique_ptr<AccessControl> make_access_control(const Config&) {
  return std::make_unique<AccessControl>(std::make_unique<AllowAllAuthenticator>(),
                                         std::make_unique<AllowAllAuthoriser>());
}

}  // namespace shardmq::broker
