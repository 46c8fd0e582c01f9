#include "broker/auth/auth_services.hpp"

#include <fmt/format.h>

namespace shardmq::broker {
namespace {

struct Loaded {
  std::shared_ptr<const PasswordFile> passwords;
  std::shared_ptr<const AclRules> acl;
};

Result<Loaded, ConfigError> load_files(const AuthConfig& c) {
  Loaded out;
  if (!c.password_file.empty()) {
    auto p = PasswordFile::load(c.password_file);
    if (!p) return unexpected(p.error());
    out.passwords = std::move(*p);
  }
  if (!c.acl_file.empty()) {
    auto a = AclRules::load(c.acl_file);
    if (!a) return unexpected(a.error());
    out.acl = std::make_shared<const AclRules>(std::move(*a));
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<AuthServices>, ConfigError> AuthServices::create(const Config& config) {
  auto files = load_files(config.auth);
  if (!files) return unexpected(files.error());
  // Hash threads only where a password may be checked.
  std::unique_ptr<AuthServices> s(
      new AuthServices(config.auth, config.authenticates() ? config.auth.hash_workers : 0));
  s->passwords_.store(std::move(files->passwords));
  s->acl_.store(std::move(files->acl));
  return s;
}

Result<std::string, ConfigError> AuthServices::reload() {
  auto files = load_files(config_);
  if (!files) return unexpected(files.error());
  std::string what;
  if (files->passwords)
    what += fmt::format("{} users from {}", files->passwords->size(), config_.password_file);
  if (files->acl)
    what += fmt::format("{}{} rules from {}", what.empty() ? "" : ", ", files->acl->rule_count(),
                        config_.acl_file);
  passwords_.store(std::move(files->passwords));
  acl_.store(std::move(files->acl));
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return what;
}

}  // namespace shardmq::broker
