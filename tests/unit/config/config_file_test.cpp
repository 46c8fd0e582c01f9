// The TOML keys added for Mosquitto's settings: limits.message_size_limit and
// limits.retain_available are read, range-checked and default to Mosquitto's behaviour; and
// [mqtt]'s shared-subscription switch and strategy.
#include <catch2/catch.hpp>

#include "broker/config/config.hpp"

using namespace shardmq::broker;
using Catch::Matchers::StartsWith;

TEST_CASE("config file: message_size_limit and retain_available", "[config][file]") {
  const Config d = Config::defaults();
  CHECK(d.message_size_limit == 0);
  CHECK(d.retain_available);

  auto c = parse_config("[limits]\nmessage_size_limit = 4096\nretain_available = false\n", "f");
  REQUIRE(c.has_value());
  CHECK(c->message_size_limit == 4096);
  CHECK_FALSE(c->retain_available);

  auto big = parse_config("[limits]\nmessage_size_limit = 268435456\n", "f");
  REQUIRE_FALSE(big.has_value());
  CHECK_THAT(big.error().to_string(),
             StartsWith("f:2: limits.message_size_limit = 268435456 is out of range"));
  auto word = parse_config("\n[limits]\nretain_available = \"no\"\n", "f");
  REQUIRE_FALSE(word.has_value());
  CHECK(word.error().to_string() == "f:3: limits.retain_available must be true or false");
}

TEST_CASE("config file: [mqtt] shared subscriptions and their strategy", "[config]") {
  auto d = parse_config("", "f");
  REQUIRE(d);
  CHECK(d->shared_subscriptions);
  CHECK(d->shared_strategy == SharedStrategy::round_robin);
  auto c = parse_config(
      "[mqtt]\nshared_subscriptions = false\nshared_subscription_strategy = \"sticky\"\n", "f");
  REQUIRE(c);
  CHECK_FALSE(c->shared_subscriptions);
  CHECK(c->shared_strategy == SharedStrategy::sticky);
  auto bad = parse_config("[mqtt]\nshared_subscription_strategy = \"random\"\n", "f");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().line == 2);
}
