#include "broker/config/runtime_settings.hpp"

namespace shardmq::broker {

void apply_runtime_settings(Config& running, const Config& fresh) {
  Config& r = running;
  const Config& f = fresh;
  r.log_level = f.log_level;
  r.log_format = f.log_format;
  r.max_outbound_bytes = f.max_outbound_bytes;
  r.connect_timeout_ms = f.connect_timeout_ms;
  r.max_keepalive = f.max_keepalive;
  r.max_queued_messages = f.max_queued_messages;
  r.max_queued_bytes = f.max_queued_bytes;
  r.slow_consumer_timeout_ms = f.slow_consumer_timeout_ms;
  r.shutdown_timeout_ms = f.shutdown_timeout_ms;
  r.max_connections = f.max_connections;
  r.max_topic_length = f.max_topic_length;
  r.max_topic_levels = f.max_topic_levels;
  r.max_subscriptions = f.max_subscriptions;
  r.message_size_limit = f.message_size_limit;
  r.retain_available = f.retain_available;
  r.max_connect_rate = f.max_connect_rate;
  r.max_connect_burst = f.max_connect_burst;
  r.max_publish_rate = f.max_publish_rate;
  r.max_publish_burst = f.max_publish_burst;
  r.max_publish_bandwidth = f.max_publish_bandwidth;
  r.max_publish_bandwidth_burst = f.max_publish_bandwidth_burst;
  r.auth.max_login_failures = f.auth.max_login_failures;
  r.auth.login_failure_window_s = f.auth.login_failure_window_s;
  r.auth.login_timeout_s = f.auth.login_timeout_s;
  r.response_information = f.response_information;
}

std::vector<std::string> restart_only_changes(const Config& running, const Config& fresh) {
  std::vector<std::string> out;
  auto check = [&](bool same, const char* name) {
    if (!same) out.emplace_back(name);
  };
  const Config& r = running;
  const Config& f = fresh;
  check(r.shards == f.shards, "broker.shards");
  check(r.io == f.io, "broker.io");
  check(r.recv_buffers == f.recv_buffers, "broker.recv_buffers");
  check(r.recv_buffer_size == f.recv_buffer_size, "broker.recv_buffer_size");
  check(r.listeners == f.listeners, "listener");
  // Told to every client in its CONNACK: a change would break what they were promised.
  check(r.max_packet_size == f.max_packet_size, "limits.max_packet_size");
  check(r.max_inflight == f.max_inflight, "limits.max_inflight");
  check(r.max_retained_messages == f.max_retained_messages, "retained.max_messages");
  check(r.max_retained_bytes == f.max_retained_bytes, "retained.max_bytes");
  check(r.sys_interval_s == f.sys_interval_s, "sys.interval");
  // The files themselves are read again on SIGHUP; which files, and who may log in
  // without one, are fixed at start-up.
  check(r.auth.password_file == f.auth.password_file, "auth.password_file");
  check(r.auth.acl_file == f.auth.acl_file, "auth.acl_file");
  check(r.auth.allow_anonymous == f.auth.allow_anonymous, "auth.allow_anonymous");
  check(r.auth.hash_workers == f.auth.hash_workers, "auth.hash_workers");
  check(r.auth.scram == f.auth.scram, "auth.scram");
  check(r.durability == f.durability, "storage.durability");
  check(r.storage_path == f.storage_path, "storage.path");
  check(r.flush_interval_ms == f.flush_interval_ms, "storage.flush_interval_ms");
  check(r.on_corruption == f.on_corruption, "storage.on_corruption");
  check(r.max_topic_aliases == f.max_topic_aliases, "limits.max_topic_aliases");
  check(r.max_topic_aliases_out == f.max_topic_aliases_out, "limits.max_topic_aliases_out");
  return out;
}

}  // namespace shardmq::broker
