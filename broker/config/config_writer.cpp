#include "broker/config/config_writer.hpp"

#include <fmt/format.h>

#include <string_view>

namespace shardmq::broker {
namespace {

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto byte = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (byte < 0x20 || byte == 0x7f)
          out += fmt::format("\\u{:04X}", unsigned{byte});
        else
          out += ch;
    }
  }
  return out + "\"";
}

const char* boolean(bool b) {
  return b ? "true" : "false";
}

const char* io_name(io::BackendChoice b) {
  switch (b) {
    case io::BackendChoice::uring:
      return "uring";
    case io::BackendChoice::epoll:
      return "epoll";
    case io::BackendChoice::auto_detect:
      break;
  }
  return "auto";
}

const char* client_cert_name(io::ClientCertPolicy p) {
  switch (p) {
    case io::ClientCertPolicy::optional:
      return "optional";
    case io::ClientCertPolicy::required:
      return "required";
    case io::ClientCertPolicy::none:
      break;
  }
  return "none";
}

void write_listener(std::string& out, const ListenerConfig& l) {
  out += fmt::format("\n[[listener]]\nurl = {}\n", quoted(listener_url(l)));
  out += fmt::format("max_connections = {}\n", l.max_connections);
  out += fmt::format("proxy_protocol = {}\n", boolean(l.proxy_protocol));
  if (l.allow_anonymous) out += fmt::format("allow_anonymous = {}\n", boolean(*l.allow_anonymous));
  // TLS keys on a plain listener do nothing; they are written only where they were set, so
  // that the file still reads back to the same configuration.
  const io::TlsOptions& t = l.tls;
  const io::TlsOptions plain;
  const bool tls = l.uses_tls();
  if (tls || t.cert_file != plain.cert_file) out += fmt::format("cert = {}\n", quoted(t.cert_file));
  if (tls || t.key_file != plain.key_file) out += fmt::format("key = {}\n", quoted(t.key_file));
  if (tls || t.ca_file != plain.ca_file) out += fmt::format("ca = {}\n", quoted(t.ca_file));
  if (tls || t.client_cert != plain.client_cert)
    out += fmt::format("client_cert = {}\n", quoted(client_cert_name(t.client_cert)));
  if (tls || t.min_version != plain.min_version)
    out += fmt::format("tls_min_version = {}\n", quoted(t.min_version));
  if (tls || t.ciphers != plain.ciphers) out += fmt::format("ciphers = {}\n", quoted(t.ciphers));
  if (tls || t.ciphersuites != plain.ciphersuites)
    out += fmt::format("ciphersuites = {}\n", quoted(t.ciphersuites));
  if (tls || l.use_identity_as_username)
    out += fmt::format("use_identity_as_username = {}\n", boolean(l.use_identity_as_username));
  if (tls || l.use_subject_as_username)
    out += fmt::format("use_subject_as_username = {}\n", boolean(l.use_subject_as_username));
  if (l.kind == ListenerKind::http || l.basic_auth)
    out += fmt::format("basic_auth = {}\n", boolean(l.basic_auth));
  if (l.uses_websocket() || !l.origins.empty()) {
    std::string list;
    for (const std::string& o : l.origins)
      list += (list.empty() ? "" : ", ") + quoted(o);
    out += fmt::format("origins = [{}]\n", list);
  }
}

}  // namespace

std::string write_config_toml(const Config& c) {
  std::string out =
      "# shardmq configuration, as printed by shardmq --print-config.\n"
      "# docs/configuration.md describes every key.\n";
  out += "\n[broker]\n";
  out += fmt::format("shards = {}\n", c.shards);
  out += fmt::format("io = {}\n", quoted(io_name(c.io)));
  out += fmt::format("log_level = {}\n", quoted(log_level_name(c.log_level)));
  out += fmt::format("log_format = {}\n", quoted(log_format_name(c.log_format)));
  out += fmt::format("recv_buffers = {}\n", c.recv_buffers);
  out += fmt::format("recv_buffer_size = {}\n", c.recv_buffer_size);

  if (c.listeners.empty()) write_listener(out, ListenerConfig{});
  for (const ListenerConfig& l : c.listeners)
    write_listener(out, l);

  out += "\n[limits]\n";
  out += fmt::format("max_packet_size = {}\n", c.max_packet_size);
  out += fmt::format("max_outbound_bytes = {}\n", c.max_outbound_bytes);
  out += fmt::format("connect_timeout_ms = {}\n", c.connect_timeout_ms);
  out += fmt::format("max_keepalive = {}\n", c.max_keepalive);
  out += fmt::format("max_inflight = {}\n", c.max_inflight);
  out += fmt::format("max_queued_messages = {}\n", c.max_queued_messages);
  out += fmt::format("max_queued_bytes = {}\n", c.max_queued_bytes);
  out += fmt::format("slow_consumer_timeout_ms = {}\n", c.slow_consumer_timeout_ms);
  out += fmt::format("max_connections = {}\n", c.max_connections);
  out += fmt::format("shutdown_timeout_ms = {}\n", c.shutdown_timeout_ms);
  out += fmt::format("max_topic_length = {}\n", c.max_topic_length);
  out += fmt::format("max_topic_levels = {}\n", c.max_topic_levels);
  out += fmt::format("max_subscriptions = {}\n", c.max_subscriptions);
  out += fmt::format("message_size_limit = {}\n", c.message_size_limit);
  out += fmt::format("retain_available = {}\n", boolean(c.retain_available));
  out += fmt::format("max_connect_rate = {}\n", c.max_connect_rate);
  out += fmt::format("max_connect_burst = {}\n", c.max_connect_burst);
  out += fmt::format("max_publish_rate = {}\n", c.max_publish_rate);
  out += fmt::format("max_publish_burst = {}\n", c.max_publish_burst);
  out += fmt::format("max_publish_bandwidth = {}\n", c.max_publish_bandwidth);
  out += fmt::format("max_publish_bandwidth_burst = {}\n", c.max_publish_bandwidth_burst);
  out += fmt::format("max_topic_aliases = {}\n", c.max_topic_aliases);
  out += fmt::format("max_topic_aliases_out = {}\n", c.max_topic_aliases_out);

  out += "\n[mqtt]\n";
  out += fmt::format("response_information = {}\n", quoted(c.response_information));
  out += fmt::format("shared_subscriptions = {}\n", boolean(c.shared_subscriptions));
  out += fmt::format("shared_subscription_strategy = {}\n",
                     quoted(shared_strategy_name(c.shared_strategy)));

  out += "\n[retained]\n";
  out += fmt::format("max_messages = {}\n", c.max_retained_messages);
  out += fmt::format("max_bytes = {}\n", c.max_retained_bytes);

  out += "\n[storage]\n";
  out += fmt::format("durability = {}\n", quoted(durability_name(c.durability)));
  out += fmt::format("path = {}\n", quoted(c.storage_path));
  out += fmt::format("flush_interval_ms = {}\n", c.flush_interval_ms);
  out += fmt::format("on_corruption = {}\n", quoted(on_corruption_name(c.on_corruption)));

  out += "\n[sys]\n";
  out += fmt::format("interval = {}\n", c.sys_interval_s);

  const AuthConfig& a = c.auth;
  out += "\n[auth]\n";
  out += fmt::format("password_file = {}\n", quoted(a.password_file));
  out += fmt::format("acl_file = {}\n", quoted(a.acl_file));
  if (a.allow_anonymous)
    out += fmt::format("allow_anonymous = {}\n", boolean(*a.allow_anonymous));
  else
    out += "# allow_anonymous unset: true without a password file, false with one\n";
  out += fmt::format("hash_workers = {}\n", a.hash_workers);
  out += fmt::format("max_login_failures = {}\n", a.max_login_failures);
  out += fmt::format("login_failure_window_s = {}\n", a.login_failure_window_s);
  out += fmt::format("login_timeout_s = {}\n", a.login_timeout_s);
  out += fmt::format("scram = {}\n", boolean(a.scram));
  return out;
}

}  // namespace shardmq::broker
