// ShardInterest: reference counts per (filter, shard) and the shard mask,
// checked by hand and against naive counting over random filters.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "core/shard_interest.hpp"
#include "naive_matcher.hpp"
#include "random_topics.hpp"

using shardmq::core::ShardInterest;

TEST_CASE("match_mask ORs the shards with a matching filter", "[topic][interest]") {
  ShardInterest si;
  CHECK(si.add("a/+", 0));
  CHECK(si.add("a/b", 3));
  CHECK(si.add("#", 63));
  CHECK(si.add("$SYS/#", 5));
  CHECK(si.match_mask("a/b") == ((1ull << 0) | (1ull << 3) | (1ull << 63)));
  CHECK(si.match_mask("a/c") == ((1ull << 0) | (1ull << 63)));
  CHECK(si.match_mask("$SYS/load") == (1ull << 5));
  CHECK(si.match_mask("$other") == 0);
}

TEST_CASE("a shard stays interested until every add is removed", "[topic][interest]") {
  ShardInterest si;
  si.add("x/#", 2);
  si.add("x/#", 2);
  si.add("x/+", 2);
  CHECK(si.size() == 2);
  CHECK(si.remove("x/#", 2));
  CHECK(si.match_mask("x/y") == (1ull << 2));
  CHECK(si.remove("x/#", 2));
  CHECK_FALSE(si.remove("x/#", 2));
  CHECK(si.match_mask("x") == 0);  // only x/# matched "x"
  CHECK(si.match_mask("x/y") == (1ull << 2));
  CHECK(si.remove("x/+", 2));
  CHECK(si.match_mask("x/y") == 0);
  CHECK(si.size() == 0);
}

TEST_CASE("shard numbers past the mask width are refused", "[topic][interest]") {
  ShardInterest si;
  CHECK_FALSE(si.add("a", 64));
  CHECK_FALSE(si.remove("a", 64));
  CHECK(si.size() == 0);
}

TEST_CASE("several shards on one filter keep separate counts", "[topic][interest]") {
  ShardInterest si;
  for (unsigned shard : {9u, 1u, 40u, 1u, 63u, 0u, 9u, 9u})
    CHECK(si.add("f", shard));
  CHECK(si.size() == 5);
  const std::uint64_t all = (1ull << 0) | (1ull << 1) | (1ull << 9) | (1ull << 40) | (1ull << 63);
  CHECK(si.match_mask("f") == all);
  CHECK(si.remove("f", 40));  // count 1: gone
  CHECK(si.match_mask("f") == (all & ~(1ull << 40)));
  CHECK_FALSE(si.remove("f", 40));
  CHECK(si.remove("f", 9));
  CHECK(si.remove("f", 9));
  CHECK(si.match_mask("f") == (all & ~(1ull << 40)));  // 9 had three adds
  CHECK(si.remove("f", 9));
  CHECK(si.remove("f", 0));
  CHECK(si.remove("f", 63));
  CHECK(si.match_mask("f") == (1ull << 1));  // one shard left, two adds
  CHECK(si.size() == 1);
  CHECK(si.remove("f", 1));
  CHECK(si.match_mask("f") == (1ull << 1));
  CHECK(si.remove("f", 1));
  CHECK(si.match_mask("f") == 0);
  CHECK(si.size() == 0);
  CHECK(si.add("f", 5));  // usable again after pruning
  CHECK(si.match_mask("f") == (1ull << 5));
}

TEST_CASE("ShardInterest agrees with naive counting and matching", "[topic][interest][random]") {
  for (unsigned seed : {5u, 6u, 1234u}) {
    INFO("seed " << seed);
    shardmq::test::RandomTopics gen(seed);
    ShardInterest si;
    std::map<std::pair<std::string, unsigned>, int> counts;
    for (int i = 0; i < 3000; ++i) {
      const std::string filter = gen.filter();
      const auto shard =
          static_cast<unsigned>(gen.pick(0, 9) < 8 ? gen.pick(0, 5) : gen.pick(0, 63));
      if (gen.pick(0, 2) == 0) {
        const auto it = counts.find({filter, shard});
        REQUIRE(si.remove(filter, shard) == (it != counts.end()));
        if (it != counts.end() && --it->second == 0) counts.erase(it);
      } else {
        REQUIRE(si.add(filter, shard));
        ++counts[{filter, shard}];
      }
      if (i % 10 != 0) continue;
      REQUIRE(si.size() == counts.size());
      const std::string topic = gen.topic();
      std::uint64_t expected = 0;
      for (const auto& [key, count] : counts) {
        if (shardmq::test::naive_match(shardmq::test::split_levels(key.first),
                                       shardmq::test::split_levels(topic))) {
          expected |= 1ull << key.second;
        }
      }
      INFO("topic '" << topic << "'");
      REQUIRE(si.match_mask(topic) == expected);
    }
    for (const auto& [key, count] : counts) {
      for (int c = 0; c < count; ++c)
        REQUIRE(si.remove(key.first, key.second));
    }
    CHECK(si.size() == 0);
    CHECK(si.match_mask("a") == 0);
  }
}
