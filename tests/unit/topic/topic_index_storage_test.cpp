// TopicIndex storage: the inline single subscriber and its heap block, level
// text too long to store inline (and its arena being compacted), `#` as slot
// versus literal, and the memory a plain exact subscription costs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/retained_tree.hpp"
#include "core/topic_index.hpp"

using shardmq::core::RetainedTree;
using shardmq::core::TopicIndex;

namespace {

std::vector<std::string> values_for(const TopicIndex<int, std::string>& idx,
                                    std::string_view topic) {
  std::vector<std::string> out;
  idx.match(topic, [&](int key, const std::string& v) { out.push_back(std::to_string(key) + v); });
  std::sort(out.begin(), out.end());
  return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("one filter goes from one subscriber to many and back", "[topic][storage]") {
  TopicIndex<int, std::string> idx;
  // Values longer than any small-string buffer, so a leak or double free shows
  // under the sanitizers.
  const std::string pad(40, 'v');
  CHECK(idx.insert("t", 1, pad + "1"));
  CHECK(values_for(idx, "t") == V{"1" + pad + "1"});
  CHECK(idx.insert("t", 2, pad + "2"));
  CHECK(values_for(idx, "t") == V{"1" + pad + "1", "2" + pad + "2"});
  CHECK(idx.erase("t", 1));  // back to one, inline
  CHECK(values_for(idx, "t") == V{"2" + pad + "2"});
  CHECK(*idx.find("t", 2) == pad + "2");
  CHECK(idx.find("t", 1) == nullptr);
  for (int k = 10; k < 40; ++k)  // past the position-map threshold
    CHECK(idx.insert("t", k, pad));
  CHECK(idx.size() == 31);
  for (int k = 10; k < 40; ++k)
    CHECK(idx.erase("t", k));
  CHECK(values_for(idx, "t") == V{"2" + pad + "2"});
  CHECK_FALSE(idx.insert("t", 2, "x"));
  CHECK(values_for(idx, "t") == V{"2x"});
  CHECK(idx.erase("t", 2));
  CHECK_FALSE(idx.erase("t", 2));
  CHECK(idx.empty());
  CHECK(idx.node_count() == 0);
}

TEST_CASE("a final # and a literal # under one parent are different filters", "[topic][storage]") {
  TopicIndex<int, std::string> idx;
  idx.insert("#", 1, "slot");
  idx.insert("#/a", 1, "literal");
  idx.insert("a/#", 2, "slot");
  idx.insert("a/#/b", 2, "literal");
  idx.insert("a/+", 3, "plus");
  CHECK(values_for(idx, "a") == V{"1slot", "2slot"});
  CHECK(values_for(idx, "a/x") == V{"1slot", "2slot", "3plus"});
  CHECK(values_for(idx, "x/a") == V{"1slot"});  // the literal `#` is no wildcard
  CHECK(idx.find("#/a", 1) != nullptr);
  CHECK(idx.find("a/#/b", 2) != nullptr);
  CHECK(idx.find("a/#/b", 1) == nullptr);
  CHECK(idx.erase("#", 1));
  CHECK(values_for(idx, "x") == V{});
  CHECK(idx.find("#/a", 1) != nullptr);
  CHECK(idx.erase("a/#", 2));
  CHECK(values_for(idx, "a") == V{});
  CHECK(values_for(idx, "a/x") == V{"3plus"});
  CHECK(idx.erase("a/+", 3));
  CHECK(values_for(idx, "a/x") == V{});
  CHECK(idx.erase("#/a", 1));
  CHECK(idx.erase("a/#/b", 2));
  CHECK(idx.node_count() == 0);
}

TEST_CASE("long levels survive churn that compacts their storage", "[topic][storage]") {
  TopicIndex<int, int> idx;
  auto name = [](int n) { return "client-" + std::to_string(n) + "-with-a-long-level-name"; };
  constexpr int kCount = 6000;  // well over the 64 KiB of freed text that triggers compaction
  for (int n = 0; n < kCount; ++n)
    REQUIRE(idx.insert("load/" + name(n) + "/x", n, n));
  for (int n = 0; n < kCount; ++n) {
    if (n % 4 != 0) REQUIRE(idx.erase("load/" + name(n) + "/x", n));
  }
  for (int n = kCount; n < 2 * kCount; ++n)  // new text after the garbage: compacts
    REQUIRE(idx.insert("load/" + name(n) + "/x", n, n));
  for (int n = 0; n < 2 * kCount; ++n) {
    const bool present = n >= kCount || n % 4 == 0;
    int seen = 0;
    idx.match("load/" + name(n) + "/x", [&](int key, int value) {
      CHECK(key == n);
      CHECK(value == n);
      ++seen;
    });
    REQUIRE(seen == (present ? 1 : 0));
  }
}

TEST_CASE("retained topic names with long levels survive compaction", "[topic][storage]") {
  RetainedTree<int> tree;
  auto topic = [](int n) { return "dev/" + std::to_string(n) + "-a-long-retained-level/status"; };
  constexpr int kCount = 5000;
  for (int n = 0; n < kCount; ++n)
    tree.set(topic(n), n);
  for (int n = 0; n < kCount; n += 2)
    REQUIRE(tree.erase(topic(n)));
  for (int n = kCount; n < 2 * kCount; ++n)
    tree.set(topic(n), n);
  int seen = 0;
  tree.match("dev/+/status", [&](std::string_view t, int v) {
    CHECK(t == topic(v));
    CHECK((v >= kCount || v % 2 == 1));
    ++seen;
    return true;
  });
  CHECK(seen == kCount + kCount / 2);
}

TEST_CASE("an exact single-subscriber filter costs under 110 bytes", "[topic][storage]") {
  // Heap bytes as memory_bytes() reports them (capacity included), for the
  // broker's common shape: one session pointer and 8 bytes of options.
  struct Options {
    std::uint8_t qos = 0;
    bool no_local = false;
    bool retain_as_published = false;
    std::uint32_t identifier = 0;
  };
  TopicIndex<std::uintptr_t, Options> idx;
  constexpr std::uintptr_t kSubs = 100000;
  for (std::uintptr_t n = 0; n < kSubs; ++n)
    idx.insert("load/" + std::to_string(n), n * 64, Options{});
  CHECK(idx.size() == kSubs);
  CHECK(idx.memory_bytes() / kSubs < 110);
}
