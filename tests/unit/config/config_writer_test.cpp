// --print-config's TOML: what write_config_toml prints, parse_config reads back to the same
// Config, for the defaults, for every setting changed, and for translated mosquitto.confs.
#include <toml++/toml.h>
#include <catch2/catch.hpp>

#include "broker/config/config_writer.hpp"
#include "tests/unit/config/config_fixture.hpp"

using namespace shardmq::broker;
using Catch::Matchers::Contains;
using shardmq::test::expect_same;
using shardmq::test::translate;

namespace {

Config round_trip(const Config& c) {
  const std::string text = write_config_toml(c);
  INFO(text);
  auto back = parse_config(text, "printed.toml");
  if (!back) FAIL(back.error().to_string());
  // Printing what was read prints the same text again.
  CHECK(write_config_toml(*back) == text);
  return *back;
}

}  // namespace

TEST_CASE("config writer: the defaults round-trip", "[config][writer]") {
  const Config d = Config::defaults();
  expect_same(round_trip(d), d);
}

TEST_CASE("config writer: every key of the embedded default file is printed", "[config][writer]") {
  // A key added to the configuration and to its default file, but not to the writer, fails
  // here: --print-config would silently drop it.
  const toml::table defaults = toml::parse(default_config_text());
  const toml::table printed = toml::parse(write_config_toml(Config::defaults()));
  defaults.for_each([&](const toml::key& section, const auto& node) {
    const toml::table* keys = nullptr;
    if constexpr (toml::is_table<decltype(node)>)
      keys = &node;
    else if constexpr (toml::is_array<decltype(node)>)
      keys = node.empty() ? nullptr : node[0].as_table();
    if (!keys) return;
    for (auto&& [key, value] : *keys) {
      INFO(section.str() << "." << key.str());
      const toml::node* out = printed.get(section.str());
      if (out && out->is_array_of_tables()) out = out->as_array()->get(0);
      REQUIRE(out != nullptr);
      CHECK(out->as_table()->contains(key.str()));
      (void)value;
    }
  });
}

TEST_CASE("config writer: every setting changed round-trips", "[config][writer]") {
  Config c = Config::defaults();
  c.shards = 3;
  c.io = shardmq::io::BackendChoice::epoll;
  c.log_level = LogLevel::warn;
  c.log_format = LogFormat::json;
  c.recv_buffers = 64;
  c.recv_buffer_size = 4096;
  c.max_packet_size = 65536;
  c.max_outbound_bytes = 1 << 20;
  c.connect_timeout_ms = 2500;
  c.max_keepalive = 120;
  c.max_inflight = 7;
  c.max_queued_messages = 0;
  c.max_queued_bytes = 9223372036854775807ull;
  c.slow_consumer_timeout_ms = 750;
  c.max_retained_messages = 10;
  c.max_retained_bytes = 12345;
  c.sys_interval_s = 0;
  c.shutdown_timeout_ms = 100;
  c.max_connections = 99;
  c.message_size_limit = 1000;
  c.retain_available = false;
  c.max_topic_length = 100;
  c.max_topic_levels = 8;
  c.max_subscriptions = 9;
  c.max_connect_rate = 5;
  c.max_connect_burst = 6;
  c.max_publish_rate = 50;
  c.max_publish_burst = 51;
  c.max_publish_bandwidth = 100000;
  c.max_publish_bandwidth_burst = 100001;
  c.max_topic_aliases = 0;
  c.max_topic_aliases_out = 64;
  c.response_information = "responses/";
  c.shared_subscriptions = false;
  c.shared_strategy = SharedStrategy::local_first;
  c.auth.password_file = "/etc/shardmq/passwd";
  c.auth.acl_file = "/etc/shardmq/acl";
  c.auth.allow_anonymous = true;
  c.auth.hash_workers = 4;
  c.auth.max_login_failures = 0;
  c.auth.login_failure_window_s = 5;
  c.auth.login_timeout_s = 7;

  c.listeners.clear();
  ListenerConfig plain;
  plain.host = "127.0.0.1";
  plain.port = 1884;
  plain.max_connections = 5;
  plain.proxy_protocol = true;
  plain.allow_anonymous = false;
  plain.tls.ca_file = "/unused/ca.pem";  // meaningless here, but kept
  c.listeners.push_back(plain);

  ListenerConfig tls;
  tls.kind = ListenerKind::mqtts;
  tls.host = "::";
  tls.port = 8883;
  tls.tls.cert_file = "/etc/a \"quoted\" dir\\server.crt";
  tls.tls.key_file = "/etc/ünïcode/server.key";
  tls.tls.ca_file = "/etc/ca.pem";
  tls.tls.client_cert = shardmq::io::ClientCertPolicy::required;
  tls.tls.min_version = "1.3";
  tls.tls.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
  tls.tls.ciphersuites = "TLS_AES_128_GCM_SHA256";
  tls.use_identity_as_username = true;
  c.listeners.push_back(tls);

  ListenerConfig wss;
  wss.kind = ListenerKind::wss;
  wss.host = "0.0.0.0";
  wss.port = 8884;
  wss.path = "/ws";
  wss.tls.cert_file = "/c";
  wss.tls.key_file = "/k";
  wss.tls.client_cert = shardmq::io::ClientCertPolicy::optional;
  wss.origins = {"https://app.example", "https://other.example"};
  c.listeners.push_back(wss);

  ListenerConfig ws;
  ws.kind = ListenerKind::ws;
  ws.port = 8080;
  ws.path = "/mqtt";
  c.listeners.push_back(ws);

  expect_same(round_trip(c), c);
}

TEST_CASE("config writer: translated mosquitto.confs round-trip", "[config][writer][mosquitto]") {
  for (const char* text : {
           "",
           "listener 1883\nallow_anonymous true\nmax_queued_messages 0\nlog_type error\n",
           "per_listener_settings true\n"
           "listener 8883\ncertfile /c\nkeyfile /k\ncafile /ca\nrequire_certificate true\n"
           "use_subject_as_username true\n"
           "listener 1883 127.0.0.1\npassword_file /p\nacl_file /a\nallow_anonymous true\n"
           "listener 8080 ::1\nprotocol websockets\nallow_anonymous true\n",
       }) {
    INFO(text);
    const Config c = translate(text).config;
    expect_same(round_trip(c), c);
  }
}

TEST_CASE("config writer: what is printed", "[config][writer]") {
  Config c = Config::defaults();
  c.listeners.clear();
  const std::string text = write_config_toml(c);
  // No listener is the listener the broker then opens.
  CHECK_THAT(text, Contains("[[listener]]\nurl = \"mqtt://0.0.0.0:1883\"\n"));
  CHECK_THAT(text, Contains("# allow_anonymous unset:"));
  c.auth.password_file = "line\nbreak\ttab\x01";
  CHECK_THAT(write_config_toml(c), Contains("password_file = \"line\\nbreak\\ttab\\u0001\"\n"));
  // A plain listener says nothing of TLS.
  CHECK_THAT(text, !Contains("cert ="));
}
