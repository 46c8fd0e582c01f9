// mosquitto.conf broker settings: limits with Mosquitto's defaults and its meaning of 0,
// logging, persistence, how lines and values are read, and the directives shardmq ignores
// (with a warning) or refuses.
#include <catch2/catch.hpp>

#include <limits>

#include "tests/unit/config/config_fixture.hpp"

using namespace shardmq::broker;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using shardmq::test::refusal;
using shardmq::test::translate;
using shardmq::test::warned;

namespace {

constexpr std::uint64_t kNoByteLimit = std::numeric_limits<std::int64_t>::max();

Config with(const std::string& lines) {
  return translate("listener 1883\n" + lines).config;
}

}  // namespace

TEST_CASE("mosquitto.conf: what the file leaves out takes Mosquitto 2.0's default",
          "[config][mosquitto][settings]") {
  const Config c = translate("listener 1883\n").config;
  CHECK(c.max_inflight == 20);
  CHECK(c.max_queued_messages == 1000);
  CHECK(c.max_queued_bytes == kNoByteLimit);
  CHECK(c.max_packet_size == 268435455);
  CHECK(c.max_keepalive == 65535);
  CHECK(c.sys_interval_s == 10);
  CHECK(c.message_size_limit == 0);
  CHECK(c.retain_available);
  CHECK(c.max_connections == 0);
  CHECK(c.log_level == LogLevel::info);
  CHECK(c.auth.password_file.empty());
  CHECK(c.auth.acl_file.empty());
  // What Mosquitto has no directive for stays shardmq's.
  const Config d = Config::defaults();
  CHECK(c.shards == d.shards);
  CHECK(c.io == d.io);
  CHECK(c.connect_timeout_ms == d.connect_timeout_ms);
  CHECK(c.max_outbound_bytes == d.max_outbound_bytes);
  CHECK(c.max_retained_messages == d.max_retained_messages);
  CHECK(c.auth.max_login_failures == d.auth.max_login_failures);
}

TEST_CASE("mosquitto.conf: limits map to [limits], with Mosquitto's 0 as no limit",
          "[config][mosquitto][settings]") {
  CHECK(with("max_inflight_messages 5\n").max_inflight == 5);
  CHECK(with("max_inflight_messages 0\n").max_inflight == 65535);
  CHECK(with("max_inflight_messages -1\n").max_inflight == 65535);
  CHECK_THAT(refusal("max_inflight_messages 65536\n"),
             StartsWith("mosquitto.conf:1: max_inflight_messages 65536 is out of range"));

  CHECK(with("max_queued_messages 50\n").max_queued_messages == 50);
  CHECK(with("max_queued_messages 0\n").max_queued_messages ==
        std::numeric_limits<std::uint32_t>::max());
  CHECK(with("max_queued_bytes 65536\n").max_queued_bytes == 65536);
  CHECK(with("max_queued_bytes 0\n").max_queued_bytes == kNoByteLimit);

  CHECK(with("message_size_limit 1024\n").message_size_limit == 1024);
  CHECK_THAT(refusal("message_size_limit 300000000\n"),
             StartsWith("mosquitto.conf:1: message_size_limit 300000000 is out of range"));

  CHECK(with("max_packet_size 2048\n").max_packet_size == 2048);
  CHECK(with("max_packet_size 2000000000\n").max_packet_size == 268435455);
  CHECK_THAT(refusal("max_packet_size 0\n"),
             StartsWith("mosquitto.conf:1: max_packet_size 0 is out of range (Mosquitto takes "
                        "20 to"));

  CHECK(with("max_keepalive 60\n").max_keepalive == 60);
  CHECK_THAT(refusal("max_keepalive 0\n"), StartsWith("mosquitto.conf:1: max_keepalive 0"));

  CHECK_FALSE(with("retain_available false\n").retain_available);
  CHECK(with("sys_interval 0\n").sys_interval_s == 0);
  CHECK(with("sys_interval 30\n").sys_interval_s == 30);
  CHECK_THAT(refusal("sys_interval 70000\n"), StartsWith("mosquitto.conf:1: sys_interval 70000"));
}

TEST_CASE("mosquitto.conf: log_type sets the log level, log_dest none turns logging off",
          "[config][mosquitto][settings]") {
  CHECK(with("log_type error\n").log_level == LogLevel::error);
  CHECK(with("log_type error\nlog_type warning\n").log_level == LogLevel::warn);
  CHECK(with("log_type notice\n").log_level == LogLevel::info);
  CHECK(with("log_type information\n").log_level == LogLevel::info);
  CHECK(with("log_type all\n").log_level == LogLevel::debug);
  CHECK(with("log_type debug\n").log_level == LogLevel::debug);
  CHECK(with("log_type all\nlog_type none\nlog_type error\n").log_level == LogLevel::error);
  CHECK(with("log_type none\n").log_level == LogLevel::off);
  CHECK(with("log_dest none\n").log_level == LogLevel::off);
  CHECK(with("log_dest none\nlog_dest stderr\n").log_level == LogLevel::info);
  CHECK(with("log_dest stderr\n").log_level == LogLevel::info);

  auto subscribe = translate("log_type subscribe\n");
  CHECK(subscribe.config.log_level == LogLevel::off);
  CHECK(warned(subscribe, "mosquitto.conf:1: log_type subscribe has no shardmq counterpart"));
  CHECK_THAT(refusal("log_type verbose\n"), StartsWith("mosquitto.conf:1: log_type 'verbose'"));

  auto dest = translate("log_dest stdout\nlog_dest syslog\nlog_dest file /var/log/m.log\n");
  CHECK(warned(dest, "mosquitto.conf:1: log_dest stdout: shardmq logs to standard error"));
  CHECK(warned(dest, "mosquitto.conf:2: log_dest syslog is not supported (ignored)"));
  CHECK(warned(dest, "mosquitto.conf:3: log_dest file is not supported (ignored)"));
  CHECK(warned(dest, "/var/log/m.log"));
  CHECK_THAT(refusal("log_dest file /a\nlog_dest file /b\n"),
             StartsWith("mosquitto.conf:2: duplicate \"log_dest file\" value"));
  CHECK_THAT(refusal("log_dest file\n"), StartsWith("mosquitto.conf:1: empty log_dest file"));
  CHECK_THAT(refusal("log_dest printer\n"), StartsWith("mosquitto.conf:1: log_dest must be"));
}

TEST_CASE("mosquitto.conf: persistence true is accepted with a warning that nothing is kept",
          "[config][mosquitto][settings]") {
  auto m = translate(
      "persistence true\npersistence_location /var/lib/mosquitto/\n"
      "persistence_file mosquitto.db\n");
  CHECK(warned(m, "mosquitto.conf:1: persistence true: shardmq keeps no state on disk yet"));
  CHECK(m.warnings.size() == 1);
  CHECK(translate("persistence false\n").warnings.empty());
  CHECK_THAT(refusal("persistence_location /a\npersistence_location /b\n"),
             StartsWith("mosquitto.conf:2: duplicate persistence_location value"));
}

TEST_CASE(
    "mosquitto.conf: an unsupported directive is reported once, with its first file and "
    "line, and ignored",
    "[config][mosquitto][settings]") {
  auto m = translate(
      "pid_file /run/mosquitto/mosquitto.pid\n"
      "user mosquitto\n"
      "listener 1883\n"
      "max_topic_alias 5\n"
      "user someone\n"
      "connection_messages true\n");
  CHECK(m.warnings == std::vector<std::string>{
                          "mosquitto.conf:1: directive pid_file is not supported (ignored)",
                          "mosquitto.conf:2: directive user is not supported (ignored)",
                          "mosquitto.conf:4: directive max_topic_alias is not supported (ignored)",
                          "mosquitto.conf:6: directive connection_messages is not supported "
                          "(ignored)",
                      });
  // Values that are what shardmq does anyway say nothing; the others are reported.
  CHECK(translate("upgrade_outgoing_qos false\nqueue_qos0_messages false\nset_tcp_nodelay "
                  "true\nmax_qos 2\n")
            .warnings.empty());
  CHECK(warned(translate("upgrade_outgoing_qos true\n"),
               "mosquitto.conf:1: directive upgrade_outgoing_qos is not supported (ignored)"));
  CHECK(warned(translate("queue_qos0_messages true\n"),
               "directive queue_qos0_messages is not supported (ignored)"));
  CHECK(warned(translate("set_tcp_nodelay false\n"), "mosquitto.conf:1: set_tcp_nodelay false"));
  CHECK(warned(translate("listener 1883\nmax_qos 1\n"),
               "mosquitto.conf:2: directive max_qos is not supported (ignored)"));
}

TEST_CASE("mosquitto.conf: bridges are refused, unknown directives are errors",
          "[config][mosquitto][settings]") {
  CHECK_THAT(refusal("listener 1883\nconnection cloud\naddress cloud.example:1883\n"),
             StartsWith("mosquitto.conf:2: directive connection is not supported: shardmq has "
                        "no bridges yet"));
  CHECK_THAT(refusal("bridge_cafile /ca\n"),
             StartsWith("mosquitto.conf:1: directive bridge_cafile is not supported"));
  CHECK_THAT(refusal("listener 1883\nlistner 1884\n"),
             StartsWith("mosquitto.conf:2: unknown directive 'listner'"));
}

TEST_CASE("mosquitto.conf: lines are read as Mosquitto reads them", "[config][mosquitto]") {
  // Comments, blank lines, CRLF, extra blanks; a trailing comment after a word value.
  auto m = translate(
      "# comment\r\n"
      "\r\n"
      "   \n"
      "listener  1883   127.0.0.1\r\n"
      "  allow_anonymous   true   # let them in\r\n"
      "\tsys_interval\t5\n"
      "  # an indented comment (Mosquitto refuses it)\n"
      "password_file /etc/mosquitto/pass # word\n");
  CHECK(m.config.listeners.at(0).host == "127.0.0.1");
  CHECK(m.config.auth.allow_anonymous == true);
  CHECK(m.config.sys_interval_s == 5);
  // A file name is the rest of the line, '#' and all, as in Mosquitto.
  CHECK(m.config.auth.password_file == "/etc/mosquitto/pass # word");
  CHECK(m.warnings.empty());

  // Mosquitto ignores words after a value; shardmq says so.
  auto extra = translate("sys_interval 5 6\n");
  CHECK(extra.config.sys_interval_s == 5);
  CHECK(warned(extra, "mosquitto.conf:1: '6' after the value of sys_interval is ignored"));

  CHECK_THAT(refusal("sys_interval 10s\n"),
             StartsWith("mosquitto.conf:1: sys_interval must be a whole number, not '10s'"));
  CHECK_THAT(refusal("sys_interval\n"), StartsWith("mosquitto.conf:1: empty sys_interval value"));
  CHECK_THAT(refusal("password_file /etc/\xff\n"),
             StartsWith("mosquitto.conf:1: password_file value is not valid UTF-8"));
}

TEST_CASE("mosquitto.conf: a file that cannot be read names itself", "[config][mosquitto]") {
  auto m = load_mosquitto_conf("/nonexistent/mosquitto.conf");
  REQUIRE_FALSE(m.has_value());
  CHECK(m.error().to_string() == "/nonexistent/mosquitto.conf: cannot open the file");
  auto dir = load_mosquitto_conf("/tmp");
  REQUIRE_FALSE(dir.has_value());
  CHECK_THAT(dir.error().to_string(), Contains("is a directory"));
}

TEST_CASE("mosquitto.conf: Debian's example file (every line a comment) runs local only",
          "[config][mosquitto]") {
  auto m = load_mosquitto_conf("/usr/share/doc/mosquitto/examples/mosquitto.conf");
  if (!m.has_value() && m.error().reason == "cannot open the file") {
    WARN("mosquitto's examples are not installed (apt-get install mosquitto): not checked");
    return;
  }
  REQUIRE(m.has_value());
  CHECK(m->warnings.empty());
  REQUIRE(m->config.listeners.size() == 2);
  CHECK(listener_url(m->config.listeners[0]) == "mqtt://127.0.0.1:1883");
  CHECK(m->config.max_inflight == 20);
}
