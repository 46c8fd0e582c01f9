#include "broker/auth/password_authenticator.hpp"

#include <openssl/crypto.h>

#include "broker/log.hpp"

namespace shardmq::broker {

PasswordAuthenticator::PasswordAuthenticator(const Config& config, AuthServices& services,
                                             std::function<void()> wake)
    : config_(config),
      services_(services),
      inbox_(std::make_shared<Inbox>()),
      failures_(config.auth.max_login_failures, config.auth.login_failure_window_s) {
  inbox_->wake = std::move(wake);
}

PasswordAuthenticator::~PasswordAuthenticator() {
  std::lock_guard lock(inbox_->mu);
  inbox_->wake = nullptr;  // the shard's loop is going: jobs still running must not wake it
}

void PasswordAuthenticator::authenticate(const ConnectCredentials& who, std::uint32_t serial,
                                         AuthWaiter& waiter) {
  waiter_ = &waiter;
  failures_.set_limits(config_.auth.max_login_failures, config_.auth.login_failure_window_s);
  const ListenerConfig* listener =
      who.listener < config_.listeners.size() ? &config_.listeners[who.listener] : nullptr;
  const bool anonymous_ok =
      config_.auth.anonymous_allowed(listener ? listener->allow_anonymous : std::nullopt);
  const std::string_view user = who.username ? *who.username : std::string_view("<anonymous>");
  if (who.certificate_user) return waiter.on_authenticated(serial, AuthVerdict::accepted);
  auto passwords = services_.passwords();
  // Without a password file a user name proves nothing: such clients count as anonymous.
  if (!who.username || !passwords) {
    if (anonymous_ok) return waiter.on_authenticated(serial, AuthVerdict::accepted);
    return refuse(serial, waiter, AuthVerdict::not_authorised, user, who.peer_address,
                  who.username ? "no password file to check it against"
                               : "anonymous clients are not allowed");
  }
  if (failures_.blocked(who.peer_address, steady_now_s()))
    return refuse(serial, waiter, AuthVerdict::not_authorised, user, who.peer_address,
                  "too many failed logins from this address");
  const PasswordEntry* entry = passwords->find(*who.username);
  if (!entry || !who.password) {
    failures_.failed(who.peer_address, steady_now_s());
    return refuse(serial, waiter, AuthVerdict::bad_credentials, user, who.peer_address,
                  !entry ? "unknown user" : "no password given");
  }
  // The hash runs on a worker: copy what it needs (the views die with this call).
  Inbox::Answer pending{
      serial, false, {}, std::string(*who.username), std::string(who.peer_address)};
  std::string password(reinterpret_cast<const char*>(who.password->data()), who.password->size());
  services_.workers().submit([inbox = inbox_, hash = entry->hash, password = std::move(password),
                              pending = std::move(pending)]() mutable {
    auto r = check_password(hash, password);
    OPENSSL_cleanse(password.data(), password.size());
    pending.ok = r && *r;
    if (!r) pending.error = r.error();
    std::lock_guard lock(inbox->mu);
    inbox->answers.push_back(std::move(pending));
    inbox->any.store(true, std::memory_order_release);
    if (inbox->wake) inbox->wake();
  });
}

void PasswordAuthenticator::deliver_answers() {
  if (!inbox_->any.load(std::memory_order_acquire)) return;
  std::vector<Inbox::Answer> answers;
  {
    std::lock_guard lock(inbox_->mu);
    answers.swap(inbox_->answers);
    inbox_->any.store(false, std::memory_order_relaxed);
  }
  for (auto& a : answers) {
    if (a.ok) {
      waiter_->on_authenticated(a.serial, AuthVerdict::accepted);
      continue;
    }
    failures_.failed(a.address, steady_now_s());
    refuse(a.serial, *waiter_, AuthVerdict::bad_credentials, a.username, a.address,
           a.error.empty() ? "wrong password" : "unusable password hash: " + a.error);
  }
}

void PasswordAuthenticator::refuse(std::uint32_t serial, AuthWaiter& waiter, AuthVerdict verdict,
                                   std::string_view user, std::string_view address,
                                   std::string_view why) {
  log_info("login refused for user '{}' from {}: {}", user, address.empty() ? "?" : address, why);
  waiter.on_authenticated(serial, verdict);
}

}  // namespace shardmq::broker
