// The authenticator for a shard when a password file is configured or a listener refuses
// anonymous clients: anonymous CONNECTs are let in where allow_anonymous says so, a user
// named by a verified client certificate (use_identity_as_username) needs no password, and a
// password is checked against the current password file on the hash workers, never on the
// loop; the verdict comes back through the shard's inbox at the end of a later turn. Failed
// logins are counted per source address (LoginFailures), and each is logged with the user
// name and the address, never the password.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/auth/auth_services.hpp"
#include "broker/auth/authenticator.hpp"
#include "broker/auth/login_failures.hpp"
#include "broker/config/config.hpp"

namespace shardmq::broker {

class PasswordAuthenticator final : public Authenticator {
 public:
  // `wake` makes the shard's loop turn (any thread may call it).
  PasswordAuthenticator(const Config& config, AuthServices& services, std::function<void()> wake);
  ~PasswordAuthenticator() override;

  void authenticate(const ConnectCredentials& who, std::uint32_t serial,
                    AuthWaiter& waiter) override;
  void deliver_answers() override;
  bool answers_later() const override { return true; }

 private:
  // Verdicts from the workers, waiting for the shard's thread. Shared with the jobs, so a job
  // that finishes after the shard is gone writes into memory that still exists.
  struct Inbox {
    struct Answer {
      std::uint32_t serial;
      bool ok;  // the password matched
      std::string error;
      std::string username, address;
    };
    std::mutex mu;
    std::vector<Answer> answers;
    std::atomic<bool> any{false};
    std::function<void()> wake;
  };

  void refuse(std::uint32_t serial, AuthWaiter& waiter, AuthVerdict verdict, std::string_view user,
              std::string_view address, std::string_view why);

  const Config& config_;
  AuthServices& services_;
  std::shared_ptr<Inbox> inbox_;
  AuthWaiter* waiter_ = nullptr;  // the shard's protocol: the same for every CONNECT
  LoginFailures failures_;
};

}  // namespace shardmq::broker
