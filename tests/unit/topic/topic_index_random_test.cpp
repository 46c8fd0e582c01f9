// TopicIndex against the naive matcher over random filters and topics, before
// and after random erases and replacements, for several seeds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/topic_index.hpp"
#include "naive_matcher.hpp"
#include "random_topics.hpp"

using shardmq::core::TopicIndex;
using shardmq::test::naive_match;
using shardmq::test::RandomTopics;
using shardmq::test::split_levels;

namespace {

using Hit = std::pair<int, int>;  // (key, value)
using Reference = std::map<std::pair<std::string, int>, int>;

std::vector<Hit> expected(const Reference& ref, const std::string& topic) {
  const auto t = split_levels(topic);
  std::vector<Hit> out;
  for (const auto& [fk, value] : ref) {
    if (naive_match(split_levels(fk.first), t)) out.emplace_back(fk.second, value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Hit> actual(const TopicIndex<int, int>& idx, const std::string& topic) {
  std::vector<Hit> out;
  idx.match(topic, [&](int key, int value) { out.emplace_back(key, value); });
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t distinct_filters(const Reference& ref) {
  std::size_t n = 0;
  const std::string* last = nullptr;
  for (const auto& [fk, value] : ref) {
    if (last == nullptr || *last != fk.first) ++n;
    last = &fk.first;
  }
  return n;
}

void compare(const TopicIndex<int, int>& idx, const Reference& ref, RandomTopics& gen, int topics) {
  REQUIRE(idx.size() == ref.size());
  REQUIRE(idx.filter_count() == distinct_filters(ref));
  for (int i = 0; i < topics; ++i) {
    const std::string topic = gen.topic();
    INFO("topic '" << topic << "'");
    REQUIRE(actual(idx, topic) == expected(ref, topic));
  }
}

void run_seed(unsigned seed) {
  INFO("seed " << seed);
  RandomTopics gen(seed);
  TopicIndex<int, int> idx;
  Reference ref;
  int next_value = 0;
  for (int i = 0; i < 1500; ++i) {
    const std::string filter = gen.filter();
    const int key = gen.pick(0, 7);
    const int value = next_value++;
    const bool fresh = ref.find({filter, key}) == ref.end();
    ref[{filter, key}] = value;
    REQUIRE(idx.insert(filter, key, value) == fresh);
  }
  compare(idx, ref, gen, 400);

  // Erase about half (some of them absent), replace a few, compare again.
  for (int i = 0; i < 1500; ++i) {
    const std::string filter = gen.filter();
    const int key = gen.pick(0, 7);
    const bool present = ref.erase({filter, key}) == 1;
    REQUIRE(idx.erase(filter, key) == present);
  }
  for (auto it = ref.begin(); it != ref.end(); ++it) {
    if (gen.pick(0, 3) == 0) {
      it->second = next_value++;
      REQUIRE_FALSE(idx.insert(it->first.first, it->first.second, it->second));
    }
  }
  compare(idx, ref, gen, 400);

  // Erasing everything prunes every node.
  for (const auto& [fk, value] : ref)
    REQUIRE(idx.erase(fk.first, fk.second));
  CHECK(idx.size() == 0);
  CHECK(idx.node_count() == 0);
}

}  // namespace

TEST_CASE("TopicIndex matches like the naive matcher (fixed seed)", "[topic][random]") {
  run_seed(12345);
}

TEST_CASE("TopicIndex matches like the naive matcher (more seeds)", "[topic][random]") {
  for (unsigned seed : {1u, 2u, 77u, 2024u})
    run_seed(seed);
}
