// The mapping of the listener directives (listener, port, bind_address, protocol, TLS,
// certificate users...), which apply to the last `listener` line or, before the first, to
// Mosquitto's default listener; and of the access directives (password_file, acl_file,
// allow_anonymous...), which apply to the whole broker unless per_listener_settings is true.
#include <fmt/format.h>
#include <sys/socket.h>

#include <cstdint>
#include <limits>
#include <string>

#include "broker/config/mosquitto_conf_state.hpp"

namespace shardmq::broker::mosquitto {

// listener PORT [ADDRESS]
Status Translator::listener(const Directive& d) {
  local_only_ = false;
  auto [port_word, rest] = split_word(d.rest);
  if (port_word.empty()) return fail(d.where, "empty listener value");
  auto port = number(d.where, "listener port", port_word, 0, 65535);
  if (!port) return unexpected(port.error());
  auto [address, after] = split_word(rest);
  if (!address.empty() && address.front() == '#') address = {};
  if (!address.empty() && !after.empty() && after.front() != '#')
    warn(d.where,
         fmt::format("'{}' after the listener's address is ignored, as Mosquitto does", after));
  if (*port == 0)
    return fail(d.where,
                "listener 0 is a Unix socket, which shardmq does not support (give a port)");
  FileListener& l = listeners_.emplace_back();
  l.where = d.where;
  l.port = static_cast<std::uint16_t>(*port);
  l.address = std::string(address);
  current_ = &l;
  return {};
}

Status Translator::port(const Directive& d) {
  local_only_ = false;
  auto v = integer(d, 1, 65535);
  if (!v) return unexpected(v.error());
  if (port_set_)
    warn(d.where, "the default listener's port is given more than once; the last one is used");
  port_set_ = true;
  FileListener& l = default_listener_;
  if (!l.configured) l.where = d.where;
  l.configured = true;
  l.port = static_cast<std::uint16_t>(*v);
  return {};
}

Status Translator::bind_address(const Directive& d) {
  local_only_ = false;
  if (auto r = text_once(d, bind_address_); !r) return r;
  FileListener& l = default_listener_;
  if (!l.configured) l.where = d.where;
  l.configured = true;
  l.address = bind_address_.value;
  return {};
}

Status Translator::protocol(const Directive& d) {
  auto v = word(d);
  if (!v) return unexpected(v.error());
  if (*v != "mqtt" && *v != "websockets")
    return fail(d.where, fmt::format("protocol must be mqtt or websockets, not '{}'", *v));
  listener_for(d, *v == "websockets").websockets = *v == "websockets";
  return {};
}

Status Translator::socket_domain(const Directive& d) {
  auto v = word(d);
  if (!v) return unexpected(v.error());
  if (*v != "ipv4" && *v != "ipv6")
    return fail(d.where, fmt::format("socket_domain must be ipv4 or ipv6, not '{}'", *v));
  listener_for(d, true).domain = *v == "ipv4" ? AF_INET : AF_INET6;
  return {};
}

Status Translator::max_connections(const Directive& d) {
  auto v = integer(d, std::numeric_limits<std::int32_t>::min(),
                   std::numeric_limits<std::int32_t>::max());
  if (!v) return unexpected(v.error());
  // Mosquitto: negative is "unlimited" (-1); so is 0 in 2.0.11, which accepts every client.
  listener_for(d, *v >= 0).max_connections = *v > 0 ? static_cast<std::uint32_t>(*v) : 0;
  return {};
}

Status Translator::certfile(const Directive& d) {
  return text_once(d, listener_for(d, true).certfile);
}

Status Translator::keyfile(const Directive& d) {
  return text_once(d, listener_for(d, true).keyfile);
}

Status Translator::cafile(const Directive& d) {
  return text_once(d, listener_for(d, true).cafile);
}

Status Translator::ciphers(const Directive& d) {
  return text_once(d, listener_for(d, true).ciphers);
}

Status Translator::ciphers_tls13(const Directive& d) {
  return text_once(d, listener_for(d, true).ciphersuites);
}

Status Translator::tls_version(const Directive& d) {
  auto v = text(d);
  if (!v) return unexpected(v.error());
  FileListener& l = listener_for(d, false);
  if (*v == "tlsv1.3") {
    l.tls_min_version = "1.3";
  } else if (*v == "tlsv1.2") {
    l.tls_min_version = "1.2";
  } else if (*v == "tlsv1.1") {
    l.tls_min_version = "1.2";
    warn(d.where, "tls_version tlsv1.1: shardmq takes TLS 1.2 and later only (1.2 used)");
  } else {
    return fail(d.where,
                fmt::format("tls_version must be tlsv1.1, tlsv1.2 or tlsv1.3, not '{}'", *v));
  }
  return {};
}

Status Translator::tls_keyform(const Directive& d) {
  auto v = text(d);
  if (!v) return unexpected(v.error());
  if (*v == "engine")
    return fail(d.where,
                "directive tls_keyform engine is not supported: shardmq reads keys "
                "from PEM files only");
  return {};  // pem: what shardmq reads anyway
}

Status Translator::require_certificate(const Directive& d) {
  auto v = boolean(d);
  if (!v) return unexpected(v.error());
  FileListener& l = listener_for(d, *v);
  l.require_certificate = *v;
  l.require_certificate_at = d.where;
  return {};
}

Status Translator::use_identity_as_username(const Directive& d) {
  auto v = boolean(d);
  if (!v) return unexpected(v.error());
  FileListener& l = listener_for(d, *v);
  l.use_identity_as_username = *v;
  if (*v) l.identity_at = d.where;
  return {};
}

Status Translator::use_subject_as_username(const Directive& d) {
  auto v = boolean(d);
  if (!v) return unexpected(v.error());
  FileListener& l = listener_for(d, *v);
  l.use_subject_as_username = *v;
  if (*v) l.identity_at = d.where;
  return {};
}

Status Translator::use_username_as_clientid(const Directive& d) {
  auto v = boolean(d);
  if (!v) return unexpected(v.error());
  if (*v)
    return fail(d.where,
                "directive use_username_as_clientid is not supported: clients could "
                "take each other's client identifiers and sessions");
  listener_for(d, false);
  return {};
}

Status Translator::max_qos(const Directive& d) {
  auto v = integer(d, 0, 2);
  if (!v) return unexpected(v.error());
  listener_for(d, *v != 2);
  if (*v != 2) ignored(d);
  return {};
}

Status Translator::password_file(const Directive& d) {
  return text_once(d, access_for(d, true).password_file);
}

Status Translator::acl_file(const Directive& d) {
  return text_once(d, access_for(d, false).acl_file);
}

Status Translator::allow_anonymous(const Directive& d) {
  auto v = boolean(d);
  if (!v) return unexpected(v.error());
  Access& a = access_for(d, false);
  a.allow_anonymous = *v;
  a.allow_anonymous_at = d.where;
  return {};
}

Status Translator::allow_zero_length_clientid(const Directive& d) {
  auto v = boolean(d);
  if (!v) return unexpected(v.error());
  access_for(d, !*v);
  if (!*v)
    return fail(d.where,
                "directive allow_zero_length_clientid false is not supported: "
                "shardmq would let clients in without a client identifier");
  return {};
}

Status Translator::check_retain_source(const Directive& d) {
  auto v = boolean(d);
  if (!v) return unexpected(v.error());
  access_for(d, false);
  if (*v)
    return fail(d.where,
                "directive check_retain_source true is not supported: shardmq does "
                "not check again that a retained message's publisher may still "
                "publish it (write check_retain_source false to accept that)");
  return {};
}

Status Translator::per_listener_settings(const Directive& d) {
  // Once true it stays true, as in Mosquitto ("it should be the first config option").
  if (per_listener_) return {};
  auto v = boolean(d);
  if (!v) return unexpected(v.error());
  if (*v && security_seen_)
    return fail(d.where, "per_listener_settings must be set before any other security setting");
  per_listener_ = *v;
  return {};
}

}  // namespace shardmq::broker::mosquitto
