// [auth] and each listener's access settings.
#include "broker/config/toml_reader.hpp"

namespace shardmq::broker {

void read_auth(Reader& r, const toml::table& t, Config& c) {
  r.only(t, "auth",
         {"password_file", "acl_file", "allow_anonymous", "hash_workers", "max_login_failures",
          "login_failure_window_s", "login_timeout_s", "scram"});
  AuthConfig& a = c.auth;
  if (auto* v = r.string(t, "auth", "password_file")) a.password_file = *v;
  if (auto* v = r.string(t, "auth", "acl_file")) a.acl_file = *v;
  if (auto v = r.boolean(t, "auth", "allow_anonymous")) a.allow_anonymous = v;
  r.integer(t, "auth", "hash_workers", a.hash_workers, 1, 64);
  r.integer(t, "auth", "max_login_failures", a.max_login_failures);
  r.integer(t, "auth", "login_failure_window_s", a.login_failure_window_s, 1, 86400);
  r.integer(t, "auth", "login_timeout_s", a.login_timeout_s, 1, 3600);
  if (auto v = r.boolean(t, "auth", "scram")) a.scram = *v;
}

void read_listener_auth(Reader& r, const toml::table& t, ListenerConfig& l) {
  if (auto v = r.boolean(t, "listener", "allow_anonymous")) l.allow_anonymous = v;
  if (auto v = r.boolean(t, "listener", "require_certificate"); v && *v)
    l.tls.client_cert = io::ClientCertPolicy::required;  // Mosquitto's name for it
  if (auto v = r.boolean(t, "listener", "use_identity_as_username"))
    l.use_identity_as_username = *v;
  if (auto v = r.boolean(t, "listener", "use_subject_as_username")) l.use_subject_as_username = *v;
  if (r.failed) return;
  const toml::node& where = *t.get("url");
  if ((l.use_identity_as_username || l.use_subject_as_username) && !l.uses_tls())
    r.fail(where,
           "use_identity_as_username and use_subject_as_username need a TLS listener "
           "(mqtts:// or wss://)");
  else if ((l.use_identity_as_username || l.use_subject_as_username) &&
           l.tls.client_cert != io::ClientCertPolicy::required)
    r.fail(where,
           "use_identity_as_username and use_subject_as_username need "
           "require_certificate = true (or client_cert = \"required\")");
}

}  // namespace shardmq::broker
