// SIGHUP's split of the configuration: what a shard takes at run time, what needs a
// restart (named for the log), and the rate keys read from the TOML file.
#include <catch2/catch.hpp>

#include "broker/config/runtime_settings.hpp"

using namespace shardmq::broker;
using Catch::Matchers::StartsWith;

TEST_CASE("config file: the connect and publish rates", "[config][file]") {
  const Config d = Config::defaults();
  CHECK(d.max_connect_rate == 0);
  CHECK(d.max_publish_rate == 0);
  CHECK(d.max_publish_bandwidth == 0);
  auto c = parse_config(
      "[limits]\nmax_connect_rate = 5\nmax_connect_burst = 20\nmax_publish_rate = 100\n"
      "max_publish_burst = 10\nmax_publish_bandwidth = 65536\nmax_publish_bandwidth_burst = 1\n",
      "f");
  REQUIRE(c.has_value());
  CHECK(c->max_connect_rate == 5);
  CHECK(c->max_connect_burst == 20);
  CHECK(c->max_publish_rate == 100);
  CHECK(c->max_publish_burst == 10);
  CHECK(c->max_publish_bandwidth == 65536);
  CHECK(c->max_publish_bandwidth_burst == 1);
  auto bad = parse_config("[limits]\nmax_publish_rate = -1\n", "f");
  REQUIRE_FALSE(bad.has_value());
  CHECK_THAT(bad.error().to_string(), StartsWith("f:2: limits.max_publish_rate = -1 is out of"));
}

TEST_CASE("reload: the run-time settings are taken, the others kept and named",
          "[config][reload]") {
  Config running = Config::defaults();
  running.listeners.push_back(ListenerConfig{});
  auto parsed = parse_config(
      "[broker]\nlog_level = \"debug\"\n"
      "[limits]\nmessage_size_limit = 10\nretain_available = false\nmax_connect_rate = 3\n"
      "max_publish_rate = 4\nmax_publish_bandwidth = 5\nmax_topic_levels = 6\n"
      "max_subscriptions = 7\nmax_connections = 8\nmax_keepalive = 9\n"
      "max_queued_messages = 11\n"
      "[auth]\nmax_login_failures = 12\nlogin_failure_window_s = 13\n",
      "f", running);
  REQUIRE(parsed.has_value());
  Config fresh = *parsed;
  CHECK(restart_only_changes(running, fresh).empty());

  fresh.shards = 7;
  fresh.max_packet_size = 1000;
  fresh.listeners[0].port = 1999;
  fresh.auth.password_file = "/p";
  CHECK(restart_only_changes(running, fresh) ==
        std::vector<std::string>{"broker.shards", "listener", "limits.max_packet_size",
                                 "auth.password_file"});

  apply_runtime_settings(running, fresh);
  CHECK(running.message_size_limit == 10);
  CHECK_FALSE(running.retain_available);
  CHECK(running.max_connect_rate == 3);
  CHECK(running.max_publish_rate == 4);
  CHECK(running.max_publish_bandwidth == 5);
  CHECK(running.max_topic_levels == 6);
  CHECK(running.max_subscriptions == 7);
  CHECK(running.max_connections == 8);
  CHECK(running.max_keepalive == 9);
  CHECK(running.max_queued_messages == 11);
  CHECK(running.auth.max_login_failures == 12);
  CHECK(running.auth.login_failure_window_s == 13);
  CHECK(running.log_level == LogLevel::debug);
  // Kept.
  CHECK(running.shards == 0);
  CHECK(running.max_packet_size == 268435455);
  CHECK(running.listeners[0].port == 1883);
  CHECK(running.auth.password_file.empty());
}

TEST_CASE("reload: a snapshot is published with a new generation", "[config][reload]") {
  Config c = Config::defaults();
  RuntimeSettings settings(c);
  const auto g = settings.generation();
  c.max_publish_rate = 42;
  settings.publish(c);
  CHECK(settings.generation() != g);
  CHECK(settings.current()->max_publish_rate == 42);
}
