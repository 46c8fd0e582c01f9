// Reading a mosquitto.conf the way Mosquitto 2.0.11 reads it (src/conf.c): one directive per
// line, the name then its value; listener settings apply to the last `listener` (before the
// first one, to Mosquitto's "default listener", opened only if something configures it);
// access settings apply to the whole broker unless per_listener_settings is true. What the
// file leaves out takes Mosquitto's default, not shardmq's.
//
// This file holds the entry points, Mosquitto's defaults and the end of the file: the
// default listener, the listeners' addresses and TLS checks, per_listener_settings and
// logging. mosquitto_conf_reader.cpp reads the lines; mosquitto_directives.cpp and
// mosquitto_listener_directives.cpp map each directive.
#include "broker/config/mosquitto_conf.hpp"

#include <fmt/format.h>
#include <sys/socket.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "broker/config/mosquitto_conf_state.hpp"
#include "io/listen_socket.hpp"

namespace shardmq::broker::mosquitto {

Translator::Translator() {
  Config& c = config_;
  c = Config::defaults();
  c.listeners.clear();
  // Mosquitto 2.0's defaults where they differ from shardmq's (src/conf.c).
  c.max_inflight = 20;
  c.max_queued_messages = 1000;
  c.max_queued_bytes = kNoByteLimit;
  c.max_packet_size = kMqttMaxPacket;
  c.max_keepalive = 65535;
  c.sys_interval_s = 10;
  c.max_connections = 0;
  c.message_size_limit = 0;
  c.retain_available = true;
}

Result<MosquittoConf, ConfigError> Translator::finish() {
  std::vector<FileListener*> all;
  for (FileListener& l : listeners_)
    all.push_back(&l);
  if (default_listener_.configured)
    all.push_back(&default_listener_);
  else
    warn_dropped_access(default_listener_.access);
  if (auto r = resolve_access(all); !r) return unexpected(r.error());
  for (FileListener* l : all)
    if (auto r = add_listener(*l); !r) return unexpected(r.error());
  if (config_.listeners.empty()) {
    // No listener at all: Mosquitto's "local only mode", reachable from this machine only.
    for (const char* host : {"127.0.0.1", "::1"}) {
      ListenerConfig l;
      l.host = host;
      l.port = 1883;
      if (per_listener_) l.allow_anonymous = anonymous_default();
      config_.listeners.push_back(l);
    }
  }
  resolve_logging();
  return MosquittoConf{std::move(config_), std::move(warnings_)};
}

// -- the end of the file: listeners, access, logging -------------------------------------

bool Translator::anonymous_default() const {
  // Mosquitto 2.0: anonymous clients are refused once the file defines a listener; with
  // none at all it runs "local only" and lets them in.
  return local_only_;
}

// The addresses a listener binds: the one given, else IPv4 and IPv6 as socket_domain says
// (Mosquitto opens one socket per family).
Result<std::vector<std::string>, ConfigError> Translator::addresses(const FileListener& l) {
  if (l.address.empty()) {
    if (l.domain == AF_INET) return std::vector<std::string>{"0.0.0.0"};
    if (l.domain == AF_INET6) return std::vector<std::string>{"::"};
    return std::vector<std::string>{"0.0.0.0", "::"};
  }
  if (l.address == "localhost")
    return std::vector<std::string>{l.domain == AF_INET6 ? "::1" : "localhost"};
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (io::parse_host(l.address, l.port, addr, len) < 0)
    return fail(l.where, fmt::format("bind address '{}' is not an IP address: shardmq does not "
                                     "look up host names (write the address, or localhost)",
                                     l.address));
  if (l.domain != AF_UNSPEC && l.domain != addr.ss_family)
    return fail(l.where, fmt::format("socket_domain {} does not match the bind address {}",
                                     l.domain == AF_INET ? "ipv4" : "ipv6", l.address));
  return std::vector<std::string>{l.address};
}

Status Translator::add_listener(const FileListener& f) {
  const bool has_cert = f.certfile.set(), has_key = f.keyfile.set();
  if (has_cert != has_key) {
    const Named& given = has_cert ? f.certfile : f.keyfile;
    return fail(given.where,
                fmt::format("{} without {}: Mosquitto would serve this listener without TLS; "
                            "give both certfile and keyfile, or neither",
                            has_cert ? "certfile" : "keyfile", has_cert ? "keyfile" : "certfile"));
  }
  const bool tls = has_cert;
  if (f.require_certificate && !tls)
    return fail(f.require_certificate_at,
                "directive require_certificate needs certfile and keyfile on this listener: "
                "without them it serves plain MQTT and asks no client for a certificate");
  if ((f.use_identity_as_username || f.use_subject_as_username) && (!tls || !f.require_certificate))
    return fail(f.identity_at,
                "use_identity_as_username and use_subject_as_username need a TLS listener "
                "(certfile, keyfile) with require_certificate true");
  if (!tls && f.cafile.set())
    warn(f.cafile.where, "cafile on a listener without certfile and keyfile has no effect");
  auto hosts = addresses(f);
  if (!hosts) return unexpected(hosts.error());
  for (const std::string& host : *hosts) {
    ListenerConfig l;
    l.kind = f.websockets ? (tls ? ListenerKind::wss : ListenerKind::ws)
                          : (tls ? ListenerKind::mqtts : ListenerKind::mqtt);
    l.host = host;
    l.port = f.port;
    if (l.uses_websocket()) l.path = "/mqtt";
    l.max_connections = f.max_connections;
    l.tls.cert_file = f.certfile.value;
    l.tls.key_file = f.keyfile.value;
    l.tls.ca_file = f.cafile.value;
    l.tls.ciphers = f.ciphers.value;
    l.tls.ciphersuites = f.ciphersuites.value;
    l.tls.min_version = f.tls_min_version;
    l.tls.client_cert =
        f.require_certificate ? io::ClientCertPolicy::required : io::ClientCertPolicy::none;
    l.use_identity_as_username = f.use_identity_as_username;
    l.use_subject_as_username = f.use_subject_as_username;
    if (per_listener_) l.allow_anonymous = f.access.allow_anonymous.value_or(anonymous_default());
    for (const ListenerConfig& other : config_.listeners)
      if (other.host == l.host && other.port == l.port)
        return fail(f.where, fmt::format("a second listener on {} port {}", l.host, l.port));
    config_.listeners.push_back(std::move(l));
  }
  return {};
}

// per_listener_settings true gives each listener its own password file and ACL; shardmq
// has one of each for the broker. Listeners that name the same file, or none, can share
// it; two different files cannot, and ignoring either would open a listener wider than
// Mosquitto does, so that refuses to start.
Status Translator::resolve_access(const std::vector<FileListener*>& all) {
  AuthConfig& a = config_.auth;
  if (!per_listener_) {
    a.password_file = access_.password_file.value;
    a.acl_file = access_.acl_file.value;
    a.allow_anonymous = access_.allow_anonymous.value_or(anonymous_default());
    return {};
  }
  const Named* password = nullptr;
  const Named* acl = nullptr;
  for (const FileListener* l : all) {
    if (auto r = one_file(l->access.password_file, password, "password_file"); !r) return r;
    if (auto r = one_file(l->access.acl_file, acl, "acl_file"); !r) return r;
  }
  a.password_file = password ? password->value : "";
  a.acl_file = acl ? acl->value : "";
  // Only listeners added later (--listen) fall back to this; Mosquitto's default for them.
  a.allow_anonymous = anonymous_default();
  for (const FileListener* l : all) {
    const bool anonymous = l->access.allow_anonymous.value_or(anonymous_default());
    const bool certificate_users = l->use_identity_as_username || l->use_subject_as_username;
    if (password && !l->access.password_file.set() && !certificate_users) {
      if (!anonymous)
        return fail(l->where,
                    fmt::format("per_listener_settings true: this listener names no "
                                "password_file and refuses anonymous clients, so Mosquitto "
                                "lets no client in on it; shardmq has one password file for "
                                "the broker ({}, {}) and would let its users in. Give this "
                                "listener the same password_file",
                                password->value, password->where.text()));
      warn(l->where, fmt::format("per_listener_settings true: this listener names no "
                                 "password_file; shardmq checks the users who log in on it "
                                 "against {} ({}) too",
                                 password->value, password->where.text()));
    }
    if (acl && !l->access.acl_file.set())
      warn(l->where, fmt::format("per_listener_settings true: this listener names no acl_file; "
                                 "shardmq applies {} ({}) to its clients too",
                                 acl->value, acl->where.text()));
  }
  return {};
}

// per_listener_settings true: access settings before the first listener belong to the
// default listener; Mosquitto drops them, without a word, when nothing opens it.
void Translator::warn_dropped_access(const Access& a) {
  const char* why =
      "before any listener, with per_listener_settings true, belongs to Mosquitto's default "
      "listener, which this file does not open: it applies to no listener (as in Mosquitto)";
  if (a.acl_file.set()) warn(a.acl_file.where, fmt::format("acl_file {}", why));
  if (a.allow_anonymous) warn(a.allow_anonymous_at, fmt::format("allow_anonymous {}", why));
}

Status Translator::one_file(const Named& given, const Named*& chosen, std::string_view what) {
  if (!given.set()) return {};
  if (!chosen) {
    chosen = &given;
    return {};
  }
  if (std::filesystem::path(given.value).lexically_normal() ==
      std::filesystem::path(chosen->value).lexically_normal())
    return {};
  return fail(given.where,
              fmt::format("per_listener_settings true with {} {} here and {} on {}: shardmq has "
                          "one {} for the whole broker and cannot keep listeners apart",
                          what, given.value, chosen->value, chosen->where.text(), what));
}

void Translator::resolve_logging() {
  if (log_dest_set_ && !log_dest_any_) {
    config_.log_level = LogLevel::off;
    return;
  }
  const unsigned t = log_type_set_ ? log_types_ : kDefaultLogTypes;
  if (t & kDebug)
    config_.log_level = LogLevel::debug;
  else if (t & (kInformation | kNotice))
    config_.log_level = LogLevel::info;
  else if (t & kWarning)
    config_.log_level = LogLevel::warn;
  else if (t & kError)
    config_.log_level = LogLevel::error;
  else
    config_.log_level = LogLevel::off;
}

}  // namespace shardmq::broker::mosquitto

namespace shardmq::broker {

Result<MosquittoConf, ConfigError> parse_mosquitto_conf(std::string_view text,
                                                        std::string_view file_name) {
  mosquitto::Translator t;
  if (auto r = t.read_text(text, std::string(file_name), 0); !r) return unexpected(r.error());
  return t.finish();
}

Result<MosquittoConf, ConfigError> load_mosquitto_conf(const std::string& path) {
  mosquitto::Translator t;
  if (auto r = t.read_file(path, 0, mosquitto::Where{}); !r) return unexpected(r.error());
  return t.finish();
}

}  // namespace shardmq::broker
