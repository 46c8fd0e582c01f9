// ShardInterest: reference counts per (filter, shard) and the shard mask.
#include <catch2/catch.hpp>

#include "core/shard_interest.hpp"

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
