// RetainedTree against the naive matcher over random topics and filters,
// before and after random erases, whole and streamed in small chunks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/retained_tree.hpp"
#include "naive_matcher.hpp"
#include "random_topics.hpp"

using shardmq::core::RetainedTree;
using shardmq::test::naive_match;
using shardmq::test::RandomTopics;
using shardmq::test::split_levels;

namespace {

using Hit = std::pair<std::string, int>;

std::vector<Hit> expected(const std::map<std::string, int>& ref, const std::string& filter) {
  const auto f = split_levels(filter);
  std::vector<Hit> out;
  for (const auto& [topic, value] : ref) {
    if (naive_match(f, split_levels(topic))) out.emplace_back(topic, value);
  }
  return out;  // map order is sorted order
}

std::vector<Hit> whole(RetainedTree<int>& tree, const std::string& filter) {
  std::vector<Hit> out;
  REQUIRE(tree.match(filter, [&](std::string_view topic, int value) {
    out.emplace_back(std::string(topic), value);
    return true;
  }));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Hit> streamed(RetainedTree<int>& tree, const std::string& filter) {
  std::vector<Hit> out;
  auto cursor = tree.start(filter);
  for (int chunks = 0; !tree.resume(cursor,
                                    [&](std::string_view topic, int value) {
                                      out.emplace_back(std::string(topic), value);
                                      return out.size() % 3 != 0;
                                    });
       ++chunks) {
    REQUIRE(chunks < 10000);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void compare(RetainedTree<int>& tree, const std::map<std::string, int>& ref, RandomTopics& gen) {
  REQUIRE(tree.size() == ref.size());
  for (int i = 0; i < 300; ++i) {
    const std::string filter = gen.filter();
    INFO("filter '" << filter << "'");
    const auto want = expected(ref, filter);
    REQUIRE(whole(tree, filter) == want);
    REQUIRE(streamed(tree, filter) == want);
  }
}

void run_seed(unsigned seed) {
  INFO("seed " << seed);
  RandomTopics gen(seed);
  RetainedTree<int> tree;
  std::map<std::string, int> ref;
  int next_value = 0;
  for (int i = 0; i < 600; ++i) {
    const std::string topic = gen.topic();
    const bool fresh = ref.find(topic) == ref.end();
    ref[topic] = next_value;
    REQUIRE(tree.set(topic, next_value++) == fresh);
  }
  compare(tree, ref, gen);
  for (int i = 0; i < 600; ++i) {
    const std::string topic = gen.topic();
    REQUIRE(tree.erase(topic) == (ref.erase(topic) == 1));
  }
  compare(tree, ref, gen);
  for (const auto& [topic, value] : ref) {
    REQUIRE(tree.find(topic) != nullptr);
    REQUIRE(*tree.find(topic) == value);
    REQUIRE(tree.erase(topic));
  }
  CHECK(tree.node_count() == 0);
}

}  // namespace

TEST_CASE("RetainedTree matches like the naive matcher (fixed seed)", "[retained][random]") {
  run_seed(4242);
}

TEST_CASE("RetainedTree matches like the naive matcher (more seeds)", "[retained][random]") {
  for (unsigned seed : {3u, 99u, 31337u})
    run_seed(seed);
}
