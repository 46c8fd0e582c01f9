#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "broker/session/subscription_list.hpp"

using shardmq::broker::SubscriptionList;
using shardmq::broker::SubscriptionOptions;

namespace {

SubscriptionOptions opts(std::uint8_t qos, std::uint32_t id = 0, bool no_local = false) {
  SubscriptionOptions o;
  o.max_qos = qos;
  o.identifier = id;
  o.no_local = no_local;
  return o;
}

std::map<std::string, std::uint32_t> contents(const SubscriptionList& l) {
  std::map<std::string, std::uint32_t> m;
  for (auto e : l)
    m[std::string(e.filter)] = e.options.identifier;
  return m;
}

}  // namespace

TEST_CASE("subscription list: add, update, remove, iterate", "[broker][subscriptions]") {
  SubscriptionList l;
  CHECK(l.empty());
  CHECK(l.begin() == l.end());
  CHECK_FALSE(l.remove("a"));
  CHECK_FALSE(l.update("a", opts(1)));

  l.add("a/b", opts(0, 1));
  l.add("sensors/+/temperature", opts(1, 2, true));
  l.add("", opts(2, 3));  // an empty entry is kept apart from the others
  CHECK(l.size() == 3);
  CHECK(l.contains("a/b"));
  CHECK(l.contains(""));
  CHECK_FALSE(l.contains("a"));
  CHECK(contents(l) ==
        std::map<std::string, std::uint32_t>{{"", 3}, {"a/b", 1}, {"sensors/+/temperature", 2}});

  CHECK(l.update("sensors/+/temperature", opts(2, 9)));
  for (auto e : l) {
    if (e.filter == "sensors/+/temperature") {
      CHECK(e.options.max_qos == 2);
      CHECK(e.options.identifier == 9);
      CHECK_FALSE(e.options.no_local);
    }
  }

  CHECK(l.remove("a/b"));  // from the front: the rest move up intact
  CHECK_FALSE(l.remove("a/b"));
  CHECK(contents(l) == std::map<std::string, std::uint32_t>{{"", 3}, {"sensors/+/temperature", 9}});
  CHECK(l.remove(""));
  CHECK(l.remove("sensors/+/temperature"));
  CHECK(l.empty());
  CHECK(l.begin() == l.end());
}

TEST_CASE("subscription list: long filters and moves", "[broker][subscriptions]") {
  SubscriptionList l;
  const std::string big(65535, 'x');  // the longest MQTT string
  l.add(big, opts(1, 7));
  l.add("short", opts(0));
  CHECK(l.contains(big));
  CHECK((*l.begin()).filter.size() == 65535);

  SubscriptionList moved(std::move(l));
  CHECK(l.empty());  // NOLINT(bugprone-use-after-move): a moved-from list is empty
  CHECK(moved.size() == 2);
  SubscriptionList other;
  other.add("o", opts(0));
  other = std::move(moved);
  CHECK(other.size() == 2);
  CHECK(other.contains("short"));
}

TEST_CASE("subscription list: matches a map under random operations", "[broker][subscriptions]") {
  std::mt19937 rng(12345);
  SubscriptionList l;
  std::map<std::string, std::uint32_t> model;
  for (int step = 0; step < 20000; ++step) {
    std::string f = "t/" + std::to_string(rng() % 64);
    if (rng() % 3 == 0) f.append("/").append(rng() % 40, 'y');
    const std::uint32_t id = rng();
    switch (rng() % 3) {
      case 0:
        if (model.count(f)) {
          CHECK(l.update(f, opts(1, id)));
        } else {
          l.add(f, opts(1, id));
        }
        model[f] = id;
        break;
      case 1:
        CHECK(l.remove(f) == (model.erase(f) == 1));
        break;
      default:
        CHECK(l.contains(f) == (model.count(f) == 1));
    }
    REQUIRE(l.size() == model.size());
  }
  CHECK(contents(l) == model);
}
