// Shared by the configuration tests: translating a mosquitto.conf that must be accepted or
// refused, finding a warning, and comparing two Configs field by field.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <string_view>

#include "broker/config/config.hpp"
#include "broker/config/mosquitto_conf.hpp"

namespace shardmq::test {

inline broker::MosquittoConf translate(const std::string& text) {
  auto m = broker::parse_mosquitto_conf(text, "mosquitto.conf");
  INFO(text);
  if (!m) FAIL(m.error().to_string());
  return std::move(*m);
}

// The error a refused file gives, as the operator sees it ("FILE:LINE: reason").
inline std::string refusal(const std::string& text) {
  auto m = broker::parse_mosquitto_conf(text, "mosquitto.conf");
  INFO(text);
  REQUIRE_FALSE(m.has_value());
  return m.error().to_string();
}

inline bool warned(const broker::MosquittoConf& m, std::string_view line) {
  for (const std::string& w : m.warnings)
    if (w.find(line) != std::string::npos) return true;
  return false;
}

inline void expect_same(const broker::ListenerConfig& a, const broker::ListenerConfig& b) {
  CHECK(a.kind == b.kind);
  CHECK(a.host == b.host);
  CHECK(a.port == b.port);
  CHECK(a.path == b.path);
  CHECK(a.max_connections == b.max_connections);
  CHECK(a.tls.cert_file == b.tls.cert_file);
  CHECK(a.tls.key_file == b.tls.key_file);
  CHECK(a.tls.ca_file == b.tls.ca_file);
  CHECK(a.tls.min_version == b.tls.min_version);
  CHECK(a.tls.ciphers == b.tls.ciphers);
  CHECK(a.tls.ciphersuites == b.tls.ciphersuites);
  CHECK(a.tls.client_cert == b.tls.client_cert);
  CHECK(a.origins == b.origins);
  CHECK(a.proxy_protocol == b.proxy_protocol);
  CHECK(a.allow_anonymous == b.allow_anonymous);
  CHECK(a.use_identity_as_username == b.use_identity_as_username);
  CHECK(a.use_subject_as_username == b.use_subject_as_username);
}

inline void expect_same(const broker::Config& a, const broker::Config& b) {
  CHECK(a.shards == b.shards);
  CHECK(a.io == b.io);
  CHECK(a.log_level == b.log_level);
  CHECK(a.log_format == b.log_format);
  CHECK(a.recv_buffers == b.recv_buffers);
  CHECK(a.recv_buffer_size == b.recv_buffer_size);
  REQUIRE(a.listeners.size() == b.listeners.size());
  for (std::size_t i = 0; i < a.listeners.size(); ++i)
    expect_same(a.listeners[i], b.listeners[i]);
  CHECK(a.max_packet_size == b.max_packet_size);
  CHECK(a.max_outbound_bytes == b.max_outbound_bytes);
  CHECK(a.connect_timeout_ms == b.connect_timeout_ms);
  CHECK(a.max_keepalive == b.max_keepalive);
  CHECK(a.max_inflight == b.max_inflight);
  CHECK(a.max_queued_messages == b.max_queued_messages);
  CHECK(a.max_queued_bytes == b.max_queued_bytes);
  CHECK(a.slow_consumer_timeout_ms == b.slow_consumer_timeout_ms);
  CHECK(a.max_retained_messages == b.max_retained_messages);
  CHECK(a.max_retained_bytes == b.max_retained_bytes);
  CHECK(a.sys_interval_s == b.sys_interval_s);
  CHECK(a.shutdown_timeout_ms == b.shutdown_timeout_ms);
  CHECK(a.max_connections == b.max_connections);
  CHECK(a.message_size_limit == b.message_size_limit);
  CHECK(a.retain_available == b.retain_available);
  CHECK(a.max_topic_length == b.max_topic_length);
  CHECK(a.max_topic_levels == b.max_topic_levels);
  CHECK(a.max_subscriptions == b.max_subscriptions);
  CHECK(a.max_connect_rate == b.max_connect_rate);
  CHECK(a.max_connect_burst == b.max_connect_burst);
  CHECK(a.max_publish_rate == b.max_publish_rate);
  CHECK(a.max_publish_burst == b.max_publish_burst);
  CHECK(a.max_publish_bandwidth == b.max_publish_bandwidth);
  CHECK(a.max_publish_bandwidth_burst == b.max_publish_bandwidth_burst);
  CHECK(a.max_topic_aliases == b.max_topic_aliases);
  CHECK(a.max_topic_aliases_out == b.max_topic_aliases_out);
  CHECK(a.response_information == b.response_information);
  CHECK(a.shared_subscriptions == b.shared_subscriptions);
  CHECK(a.shared_strategy == b.shared_strategy);
  CHECK(a.auth.password_file == b.auth.password_file);
  CHECK(a.auth.acl_file == b.auth.acl_file);
  CHECK(a.auth.allow_anonymous == b.auth.allow_anonymous);
  CHECK(a.auth.hash_workers == b.auth.hash_workers);
  CHECK(a.auth.max_login_failures == b.auth.max_login_failures);
  CHECK(a.auth.login_failure_window_s == b.auth.login_failure_window_s);
  CHECK(a.auth.login_timeout_s == b.auth.login_timeout_s);
}

}  // namespace shardmq::test
