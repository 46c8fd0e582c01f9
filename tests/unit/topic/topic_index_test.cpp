// TopicIndex: MQTT §4.7 wildcard examples, replacement, erasure and pruning.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "core/topic_index.hpp"

using shardmq::core::TopicIndex;

namespace {

// Filters (stored as the value) whose subscriptions match `topic`, sorted.
std::vector<std::string> matched(const TopicIndex<int, std::string>& idx, std::string_view topic) {
  std::vector<std::string> out;
  idx.match(topic, [&](int, const std::string& filter) { out.push_back(filter); });
  std::sort(out.begin(), out.end());
  return out;
}

TopicIndex<int, std::string> index_of(std::initializer_list<const char*> filters) {
  TopicIndex<int, std::string> idx;
  for (const char* f : filters)
    REQUIRE(idx.insert(f, 1, f));
  return idx;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("multi-level wildcard: sport/tennis/player1/#", "[topic]") {
  auto idx = index_of({"sport/tennis/player1/#"});
  CHECK(matched(idx, "sport/tennis/player1") == V{"sport/tennis/player1/#"});
  CHECK(matched(idx, "sport/tennis/player1/ranking") == V{"sport/tennis/player1/#"});
  CHECK(matched(idx, "sport/tennis/player1/score/wimbledon") == V{"sport/tennis/player1/#"});
  CHECK(matched(idx, "sport/tennis/player2").empty());
  CHECK(matched(idx, "sport/tennis").empty());
}

TEST_CASE("sport/# matches sport and below; # matches everything but $", "[topic]") {
  auto idx = index_of({"sport/#", "#"});
  CHECK(matched(idx, "sport") == V{"#", "sport/#"});
  CHECK(matched(idx, "sport/") == V{"#", "sport/#"});
  CHECK(matched(idx, "other/x") == V{"#"});
  CHECK(matched(idx, "/") == V{"#"});
  CHECK(matched(idx, "$SYS/x").empty());
}

TEST_CASE("single-level wildcard: sport/tennis/+ and sport/+", "[topic]") {
  auto idx = index_of({"sport/tennis/+", "sport/+"});
  CHECK(matched(idx, "sport/tennis/player1") == V{"sport/tennis/+"});
  CHECK(matched(idx, "sport/tennis/player2") == V{"sport/tennis/+"});
  CHECK(matched(idx, "sport/tennis/player1/ranking").empty());
  CHECK(matched(idx, "sport").empty());
  CHECK(matched(idx, "sport/") == V{"sport/+"});
  CHECK(matched(idx, "sport/tennis") == V{"sport/+"});
}

TEST_CASE("+/+, /+ and + against leading slash topics", "[topic]") {
  auto idx = index_of({"+/+", "/+", "+", "+/tennis/#"});
  CHECK(matched(idx, "/finance") == V{"+/+", "/+"});
  CHECK(matched(idx, "finance") == V{"+"});
  CHECK(matched(idx, "sport/tennis") == V{"+/+", "+/tennis/#"});
  CHECK(matched(idx, "sport/tennis/x") == V{"+/tennis/#"});
  CHECK(matched(idx, "a/b/c").empty());
}

TEST_CASE("$ topics: wildcards in the first level do not match", "[topic]") {
  auto idx = index_of({"#", "+/monitor/Clients", "$SYS/#", "$SYS/monitor/+", "+", "a/+"});
  CHECK(matched(idx, "$SYS/monitor/Clients") == V{"$SYS/#", "$SYS/monitor/+"});
  CHECK(matched(idx, "$SYS") == V{"$SYS/#"});
  CHECK(matched(idx, "$").empty());
  CHECK(matched(idx, "x/monitor/Clients") == V{"#", "+/monitor/Clients"});
  // '$' only matters in the first level.
  CHECK(matched(idx, "a/$x") == V{"#", "a/+"});
}

TEST_CASE("empty levels are real levels", "[topic]") {
  auto idx = index_of({"a//b", "a/+/b", "/", "+/+"});
  CHECK(matched(idx, "a//b") == V{"a/+/b", "a//b"});
  CHECK(matched(idx, "a/b").empty() == false);  // +/+
  CHECK(matched(idx, "a/b") == V{"+/+"});
  CHECK(matched(idx, "/") == V{"+/+", "/"});
  CHECK(matched(idx, "a/x/b") == V{"a/+/b"});
}

TEST_CASE("insert replaces the value of an existing (filter, key)", "[topic]") {
  TopicIndex<int, int> idx;
  CHECK(idx.insert("a/b", 7, 1));
  CHECK_FALSE(idx.insert("a/b", 7, 2));
  CHECK(idx.size() == 1);
  CHECK(idx.filter_count() == 1);
  REQUIRE(idx.find("a/b", 7) != nullptr);
  CHECK(*idx.find("a/b", 7) == 2);
  int seen = 0;
  idx.match("a/b", [&](int key, int value) {
    CHECK(key == 7);
    CHECK(value == 2);
    ++seen;
  });
  CHECK(seen == 1);
}

TEST_CASE("many keys on one filter, erased in any order", "[topic]") {
  TopicIndex<int, int> idx;
  constexpr int kKeys = 200;  // past the position-map threshold
  for (int k = 0; k < kKeys; ++k)
    CHECK(idx.insert("$SYS/#", k, k * 10));
  CHECK(idx.size() == kKeys);
  CHECK(idx.filter_count() == 1);
  for (int k = 0; k < kKeys; k += 2)
    CHECK(idx.erase("$SYS/#", k));
  CHECK_FALSE(idx.erase("$SYS/#", 0));
  std::vector<int> keys;
  idx.match("$SYS/broker/load", [&](int key, int value) {
    CHECK(value == key * 10);
    keys.push_back(key);
  });
  std::sort(keys.begin(), keys.end());
  REQUIRE(keys.size() == kKeys / 2);
  for (int i = 0; i < kKeys / 2; ++i)
    CHECK(keys[i] == 2 * i + 1);
  CHECK_FALSE(idx.insert("$SYS/#", 1, 99));
  CHECK(*idx.find("$SYS/#", 1) == 99);
  for (int k = 1; k < kKeys; k += 2)
    CHECK(idx.erase("$SYS/#", k));
  CHECK(idx.empty());
  CHECK(idx.node_count() == 0);
}

TEST_CASE("erase prunes empty nodes but keeps shared prefixes", "[topic]") {
  TopicIndex<int, int> idx;
  idx.insert("a/b/c/d", 1, 0);
  idx.insert("a/b", 2, 0);
  idx.insert("a/+/#", 3, 0);
  CHECK(idx.node_count() == 6);          // a b c d + #
  CHECK_FALSE(idx.erase("a/b/c/d", 2));  // wrong key
  CHECK_FALSE(idx.erase("a/b/c", 1));    // not a filter that exists
  CHECK(idx.erase("a/b/c/d", 1));
  CHECK(idx.node_count() == 4);  // a, b, +, #
  int hits = 0;
  idx.match("a/b/c/d", [&](int, int) { ++hits; });
  CHECK(hits == 1);  // only a/+/#
  CHECK(idx.erase("a/+/#", 3));
  CHECK(idx.node_count() == 2);
  CHECK(idx.erase("a/b", 2));
  CHECK(idx.node_count() == 0);
  CHECK(idx.size() == 0);
  CHECK(idx.filter_count() == 0);
  // The index is usable after full pruning (node ids are reused).
  CHECK(idx.insert("x/y", 1, 5));
  hits = 0;
  idx.match("x/y", [&](int, int v) { hits += v; });
  CHECK(hits == 5);
}

TEST_CASE("odd input is stored without harm", "[topic]") {
  TopicIndex<int, int> idx;
  CHECK(idx.insert("", 1, 1));
  CHECK(idx.insert("#/a", 1, 2));  // non-final '#' is a literal level
  CHECK(idx.insert("a+/b#", 1, 3));
  std::vector<int> got;
  idx.match("", [&](int, int v) { got.push_back(v); });
  CHECK(got == std::vector<int>{1});
  got.clear();
  idx.match("x/a", [&](int, int v) { got.push_back(v); });
  CHECK(got.empty());
  got.clear();
  idx.match("a+/b#", [&](int, int v) { got.push_back(v); });
  CHECK(got == std::vector<int>{3});
  CHECK(idx.erase("#/a", 1));
  CHECK(idx.erase("", 1));
  CHECK(idx.erase("a+/b#", 1));
  CHECK(idx.node_count() == 0);
}

TEST_CASE("deep topics spill the traversal stack correctly", "[topic]") {
  TopicIndex<int, int> idx;
  std::string filter = "+", topic = "x";
  for (int i = 1; i < 200; ++i) {
    filter += "/+";
    topic += "/x";
  }
  idx.insert(filter, 1, 1);
  idx.insert(topic, 2, 2);
  idx.insert("#", 3, 3);
  std::vector<int> got;
  idx.match(topic, [&](int k, int) { got.push_back(k); });
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<int>{1, 2, 3});
}

TEST_CASE("clear empties the index", "[topic]") {
  TopicIndex<int, int> idx;
  idx.insert("a/#", 1, 1);
  idx.insert("b", 1, 1);
  idx.clear();
  CHECK(idx.size() == 0);
  CHECK(idx.filter_count() == 0);
  CHECK(idx.node_count() == 0);
  int hits = 0;
  idx.match("a/b", [&](int, int) { ++hits; });
  CHECK(hits == 0);
  CHECK(idx.insert("a/#", 1, 1));
}
