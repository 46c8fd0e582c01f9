// The directive table: which directives shardmq maps, ignores (saying so once) or refuses
// (because running without them would weaken security or drop what the broker is meant to
// do); and the mapping of the broker-wide directives: limits, $SYS, persistence, logging.
// The listener and access directives are in mosquitto_listener_directives.cpp.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "broker/config/mosquitto_conf_state.hpp"

namespace shardmq::broker::mosquitto {

namespace {

// Directives shardmq does without: the operator is told once, at start-up.
constexpr std::string_view kIgnored[] = {
    "allow_duplicate_messages",
    "auto_id_prefix",
    "autosave_interval",
    "autosave_on_changes",
    "connection_messages",
    "dhparamfile",
    "http_dir",
    "log_facility",
    "log_timestamp",
    "log_timestamp_format",
    "max_inflight_bytes",
    "max_topic_alias",
    "memory_limit",
    "persistent_client_expiration",
    "pid_file",
    "retry_interval",
    "user",
    "websockets_headers_size",
    "websockets_log_level",
};

struct Refusal {
  std::string_view name;
  std::string_view reason;
};

// Directives whose absence would weaken security or drop what the broker is meant to do:
// start-up fails rather than run without them.
constexpr std::string_view kNoPlugins =
    "shardmq loads no plugins; running without the plugin's checks would let clients do what it "
    "refuses";
constexpr std::string_view kNoPsk =
    "shardmq has no TLS-PSK; the listener would take clients without their pre-shared keys";
constexpr std::string_view kNoBridges =
    "shardmq has no bridges yet; remove the bridge (its connection line and the lines after it) "
    "to run without it";
constexpr Refusal kRefused[] = {
    {"auth_plugin", kNoPlugins},
    {"plugin", kNoPlugins},
    {"global_plugin", kNoPlugins},
    {"auth_plugin_deny_special_chars", kNoPlugins},
    {"psk_file", kNoPsk},
    {"psk_hint", kNoPsk},
    {"capath", "shardmq reads client CAs from one cafile only; put the certificates in it"},
    {"crlfile", "shardmq checks no revocation lists; revoked client certificates would be let in"},
    {"tls_engine", "shardmq reads keys from PEM files only"},
    {"tls_engine_kpass_sha1", "shardmq reads keys from PEM files only"},
    {"bind_interface",
     "shardmq binds addresses, not interfaces; it would listen on every interface instead"},
    {"mount_point",
     "shardmq has no mount points; the listener's clients would see every topic instead of "
     "their own tree"},
    {"clientid_prefixes",
     "shardmq cannot restrict client identifiers to prefixes; every client would be let in"},
    {"address", kNoBridges},
    {"addresses", kNoBridges},
    {"cleansession", kNoBridges},
    {"clientid", kNoBridges},
    {"connection", kNoBridges},
    {"idle_timeout", kNoBridges},
    {"keepalive_interval", kNoBridges},
    {"local_cleansession", kNoBridges},
    {"local_clientid", kNoBridges},
    {"local_password", kNoBridges},
    {"local_username", kNoBridges},
    {"notification_topic", kNoBridges},
    {"notifications", kNoBridges},
    {"notifications_local_only", kNoBridges},
    {"password", kNoBridges},
    {"remote_clientid", kNoBridges},
    {"remote_password", kNoBridges},
    {"remote_username", kNoBridges},
    {"restart_timeout", kNoBridges},
    {"round_robin", kNoBridges},
    {"start_type", kNoBridges},
    {"threshold", kNoBridges},
    {"topic", kNoBridges},
    {"try_private", kNoBridges},
    {"username", kNoBridges},
};

}  // namespace

const Translator::Entry Translator::kHandlers[] = {
    {"listener", &Translator::listener},
    {"port", &Translator::port},
    {"bind_address", &Translator::bind_address},
    {"protocol", &Translator::protocol},
    {"socket_domain", &Translator::socket_domain},
    {"max_connections", &Translator::max_connections},
    {"certfile", &Translator::certfile},
    {"keyfile", &Translator::keyfile},
    {"cafile", &Translator::cafile},
    {"ciphers", &Translator::ciphers},
    {"ciphers_tls1.3", &Translator::ciphers_tls13},
    {"tls_version", &Translator::tls_version},
    {"tls_keyform", &Translator::tls_keyform},
    {"require_certificate", &Translator::require_certificate},
    {"use_identity_as_username", &Translator::use_identity_as_username},
    {"use_subject_as_username", &Translator::use_subject_as_username},
    {"use_username_as_clientid", &Translator::use_username_as_clientid},
    {"max_qos", &Translator::max_qos},
    {"password_file", &Translator::password_file},
    {"acl_file", &Translator::acl_file},
    {"allow_anonymous", &Translator::allow_anonymous},
    {"allow_zero_length_clientid", &Translator::allow_zero_length_clientid},
    {"check_retain_source", &Translator::check_retain_source},
    {"per_listener_settings", &Translator::per_listener_settings},
    {"max_inflight_messages", &Translator::max_inflight_messages},
    {"max_queued_messages", &Translator::max_queued_messages},
    {"max_queued_bytes", &Translator::max_queued_bytes},
    {"message_size_limit", &Translator::message_size_limit},
    {"max_packet_size", &Translator::max_packet_size},
    {"max_keepalive", &Translator::max_keepalive},
    {"retain_available", &Translator::retain_available},
    {"sys_interval", &Translator::sys_interval},
    {"global_max_connections", &Translator::global_max_connections},
    {"persistence", &Translator::persistence},
    {"persistence_location", &Translator::persistence_path},
    {"persistence_file", &Translator::persistence_path},
    {"queue_qos0_messages", &Translator::queue_qos0_messages},
    {"upgrade_outgoing_qos", &Translator::upgrade_outgoing_qos},
    {"set_tcp_nodelay", &Translator::set_tcp_nodelay},
    {"log_dest", &Translator::log_dest},
    {"log_type", &Translator::log_type},
};

Status Translator::apply(const Directive& d, int level) {
  if (d.name == "include_dir") return include_dir(d, level);
  for (const Entry& e : kHandlers)
    if (d.name == e.name) return (this->*e.handler)(d);
  for (std::string_view name : kIgnored)
    if (d.name == name) {
      ignored(d);
      return {};
    }
  for (const Refusal& r : kRefused)
    if (d.name == r.name)
      return fail(d.where, fmt::format("directive {} is not supported: {}", d.name, r.reason));
  if (d.name.starts_with("auth_opt_") || d.name.starts_with("plugin_opt_"))
    return fail(d.where, fmt::format("directive {} is not supported: {}", d.name, kNoPlugins));
  if (d.name.starts_with("bridge_"))
    return fail(d.where, fmt::format("directive {} is not supported: {}", d.name, kNoBridges));
  return fail(d.where, fmt::format("unknown directive '{}'", d.name));
}

Status Translator::max_inflight_messages(const Directive& d) {
  auto v = integer(d, std::numeric_limits<std::int32_t>::min(), 65535);
  if (!v) return unexpected(v.error());
  // 0 (and, in Mosquitto, anything negative or 65535) is "no maximum": the largest window.
  config_.max_inflight = *v <= 0 ? 65535 : static_cast<std::uint16_t>(*v);
  return {};
}

Status Translator::max_queued_messages(const Directive& d) {
  auto v = integer(d, std::numeric_limits<std::int32_t>::min(),
                   std::numeric_limits<std::int32_t>::max());
  if (!v) return unexpected(v.error());
  config_.max_queued_messages =
      *v <= 0 ? std::numeric_limits<std::uint32_t>::max() : static_cast<std::uint32_t>(*v);
  return {};
}

Status Translator::max_queued_bytes(const Directive& d) {
  auto v = integer(d, std::numeric_limits<std::int32_t>::min(),
                   std::numeric_limits<std::int32_t>::max());
  if (!v) return unexpected(v.error());
  config_.max_queued_bytes = *v <= 0 ? kNoByteLimit : static_cast<std::uint64_t>(*v);
  return {};
}

Status Translator::message_size_limit(const Directive& d) {
  auto v = integer(d, 0, kMqttMaxPacket);
  if (!v) return unexpected(v.error());
  config_.message_size_limit = static_cast<std::uint32_t>(*v);
  return {};
}

Status Translator::max_packet_size(const Directive& d) {
  auto v = integer(d, 20, std::numeric_limits<std::int32_t>::max());
  if (!v) return unexpected(v.error());
  // Nothing larger than the MQTT maximum can arrive, so a larger limit is no limit.
  config_.max_packet_size = static_cast<std::uint32_t>(std::min<std::int64_t>(*v, kMqttMaxPacket));
  return {};
}

Status Translator::max_keepalive(const Directive& d) {
  auto v = integer(d, 1, 65535);
  if (!v) return unexpected(v.error());
  config_.max_keepalive = static_cast<std::uint16_t>(*v);
  return {};
}

Status Translator::retain_available(const Directive& d) {
  auto v = boolean(d);
  if (!v) return unexpected(v.error());
  config_.retain_available = *v;
  return {};
}

Status Translator::sys_interval(const Directive& d) {
  auto v = integer(d, 0, 65535);
  if (!v) return unexpected(v.error());
  config_.sys_interval_s = static_cast<std::uint32_t>(*v);
  return {};
}

Status Translator::global_max_connections(const Directive& d) {
  auto v = integer(d, std::numeric_limits<std::int32_t>::min(),
                   std::numeric_limits<std::int32_t>::max());
  if (!v) return unexpected(v.error());
  config_.max_connections = *v > 0 ? static_cast<std::uint32_t>(*v) : 0;
  return {};
}

Status Translator::persistence(const Directive& d) {
  auto v = boolean(d);
  if (!v) return unexpected(v.error());
  if (*v)
    warn(d.where,
         "persistence true: shardmq keeps no state on disk yet; sessions, queued and "
         "retained messages are lost when it stops");
  return {};
}

// Where Mosquitto would keep its database: nothing to do while shardmq keeps none.
Status Translator::persistence_path(const Directive& d) {
  return text_once(d, persistence_[std::string(d.name)]);
}

Status Translator::queue_qos0_messages(const Directive& d) {
  return ignored_if(d, true);
}

Status Translator::upgrade_outgoing_qos(const Directive& d) {
  return ignored_if(d, true);
}

Status Translator::set_tcp_nodelay(const Directive& d) {
  auto v = boolean(d);
  if (!v) return unexpected(v.error());
  if (!*v) warn(d.where, "set_tcp_nodelay false is ignored: shardmq always sets TCP_NODELAY");
  return {};
}

// A boolean directive whose `unsupported` value shardmq ignores; the other value is what
// shardmq does anyway.
Status Translator::ignored_if(const Directive& d, bool unsupported) {
  auto v = boolean(d);
  if (!v) return unexpected(v.error());
  if (*v == unsupported) ignored(d);
  return {};
}

// log_dest adds a destination; `none` clears them. shardmq has one: standard error.
Status Translator::log_dest(const Directive& d) {
  auto [dest, path] = split_word(d.rest);
  if (dest.empty()) return fail(d.where, "empty log_dest value");
  log_dest_set_ = true;
  log_dest_any_ = dest != "none";
  if (dest == "none" || dest == "stderr") return {};
  if (dest == "stdout") {
    warn(d.where, "log_dest stdout: shardmq logs to standard error");
  } else if (dest == "syslog" || dest == "topic" || dest == "dlt") {
    warn(d.where, fmt::format("log_dest {} is not supported (ignored): shardmq logs to "
                              "standard error",
                              dest));
  } else if (dest == "file") {
    if (path.empty()) return fail(d.where, "empty log_dest file value");
    if (log_file_set_) return fail(d.where, "duplicate \"log_dest file\" value");
    log_file_set_ = true;
    warn(d.where, fmt::format("log_dest file is not supported (ignored): shardmq logs to "
                              "standard error; send that to {} from the service manager",
                              path));
  } else {
    return fail(d.where, fmt::format("log_dest must be stdout, stderr, syslog, topic, file, "
                                     "dlt or none, not '{}'",
                                     dest));
  }
  return {};
}

Status Translator::log_type(const Directive& d) {
  auto v = word(d);
  if (!v) return unexpected(v.error());
  if (!log_type_set_) log_types_ = 0;
  log_type_set_ = true;
  if (*v == "none") {
    log_types_ = 0;
  } else if (*v == "all") {
    log_types_ = kDebug | kDefaultLogTypes;
  } else if (*v == "debug") {
    log_types_ |= kDebug;
  } else if (*v == "error") {
    log_types_ |= kError;
  } else if (*v == "warning") {
    log_types_ |= kWarning;
  } else if (*v == "notice") {
    log_types_ |= kNotice;
  } else if (*v == "information") {
    log_types_ |= kInformation;
  } else if (*v == "subscribe" || *v == "unsubscribe" || *v == "websockets" || *v == "internal") {
    warn(d.where, fmt::format("log_type {} has no shardmq counterpart (ignored)", *v));
  } else {
    return fail(d.where, fmt::format("log_type '{}' is not a Mosquitto log type", *v));
  }
  return {};
}

}  // namespace shardmq::broker::mosquitto
