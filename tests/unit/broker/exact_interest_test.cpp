// ExactInterest: the table of which shards subscribe to each filter without wildcards,
// shared by every shard. One bit per shard, the entry gone with its last bit, a version that
// moves with every change, and writers on several threads at once.
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "broker/routing/exact_interest.hpp"

namespace shardmq::broker {
namespace {

TEST_CASE("exact interest: each shard sets and clears its own bit", "[broker][interest]") {
  ExactInterest t(4);
  CHECK(t.mask("a/b") == 0);
  const std::uint64_t v0 = t.version();
  t.set("a/b", 3, true);
  CHECK(t.mask("a/b") == 8);
  CHECK(t.version() > v0);
  t.set("a/b", 0, true);
  t.set("a/b", 0, true);  // again: still one bit
  CHECK(t.mask("a/b") == 9);
  CHECK(t.mask("a/b/c") == 0);  // exact: no prefix or level matching
  CHECK(t.mask("a") == 0);
  CHECK(t.size() == 1);
  t.set("a/b", 3, false);
  CHECK(t.mask("a/b") == 1);
  t.set("a/b", 0, false);
  CHECK(t.mask("a/b") == 0);
  CHECK(t.size() == 0);
  t.set("never/set", 2, false);  // clearing what is not there changes nothing
  CHECK(t.size() == 0);
  t.set("too/far", ExactInterest::kMaxShards, true);  // refused
  CHECK(t.mask("too/far") == 0);
}

TEST_CASE("exact interest: empty and long filters, many entries per stripe", "[broker][interest]") {
  ExactInterest t(2);
  const std::string longer(5000, 'x');
  t.set(longer, 63, true);
  t.set("", 1, true);  // not a valid filter, but the table takes any bytes
  for (int i = 0; i < 10000; ++i)
    t.set("d/" + std::to_string(i), static_cast<unsigned>(i % 64), true);
  CHECK(t.mask(longer) == std::uint64_t(1) << 63);
  CHECK(t.mask("") == 2);
  CHECK(t.size() == 10002);
  for (int i = 0; i < 10000; ++i)
    REQUIRE(t.mask("d/" + std::to_string(i)) == std::uint64_t(1) << (i % 64));
  CHECK(t.memory_bytes() > 10000 * 16);
}

TEST_CASE("exact interest: shards write their bits concurrently while others read",
          "[broker][interest]") {
  ExactInterest t(16);
  constexpr unsigned kShards = 8;
  constexpr int kFilters = 2000;
  std::vector<std::thread> threads;
  for (unsigned shard = 0; shard < kShards; ++shard) {
    threads.emplace_back([&t, shard] {
      // Every shard subscribes to every filter, then leaves the odd ones.
      for (int i = 0; i < kFilters; ++i)
        t.set("f/" + std::to_string(i), shard, true);
      for (int i = 1; i < kFilters; i += 2)
        t.set("f/" + std::to_string(i), shard, false);
    });
  }
  std::thread reader([&t] {
    std::uint64_t seen = 0;
    for (int round = 0; round < 20; ++round)
      for (int i = 0; i < kFilters; ++i)
        seen |= t.mask("f/" + std::to_string(i));
    CHECK((seen & ~std::uint64_t(0xff)) == 0);  // only the writers' bits ever appear
  });
  for (auto& th : threads)
    th.join();
  reader.join();
  for (int i = 0; i < kFilters; ++i)
    REQUIRE(t.mask("f/" + std::to_string(i)) == (i % 2 ? 0u : 0xffu));
  CHECK(t.size() == kFilters / 2);
}

}  // namespace
}  // namespace shardmq::broker
