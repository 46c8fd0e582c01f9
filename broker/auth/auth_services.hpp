// What access control shares between the shards: the password file and the ACL as last
// loaded (immutable snapshots, swapped whole on reload), and the hash workers. The broker
// owns it; each shard's AccessControl reads the current snapshots at the moment it checks,
// so after a reload every client is judged by the new files at its next action.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "broker/auth/acl_rules.hpp"
#include "broker/auth/hash_workers.hpp"
#include "broker/auth/password_file.hpp"
#include "broker/config/config.hpp"
#include "core/result.hpp"

namespace shardmq::broker {

class AuthServices {
 public:
  // Loads the files the configuration names; a bad file stops start-up (FILE:LINE: reason).
  static Result<std::unique_ptr<AuthServices>, ConfigError> create(const Config& config);

  // SIGHUP: reads both files again. All or nothing: if either fails, the old ones stay and
  // the error says why. Returns what was reloaded, for the log.
  Result<std::string, ConfigError> reload();

  // Null when the configuration names no such file.
  std::shared_ptr<const PasswordFile> passwords() const { return passwords_.load(); }
  std::shared_ptr<const AclRules> acl() const { return acl_.load(); }
  // Bumped by every successful reload: a shard compares it to rebuild what it derived.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  HashWorkers& workers() { return workers_; }
  const AuthConfig& config() const { return config_; }

 private:
  AuthServices(const AuthConfig& config, unsigned workers) : config_(config), workers_(workers) {}

  AuthConfig config_;
  std::atomic<std::shared_ptr<const PasswordFile>> passwords_;
  std::atomic<std::shared_ptr<const AclRules>> acl_;
  std::atomic<std::uint64_t> generation_{1};
  HashWorkers workers_;
};

}  // namespace shardmq::broker
