#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/intrusive_hash_index.hpp"

using shardmq::core::IntrusiveHashIndex;

namespace {

struct Item {
  std::string name;
  std::uint32_t number = 0;
  Item* next = nullptr;
};

struct ByName {
  static std::string_view key(const Item& i) { return i.name; }
  static Item*& next(Item& i) { return i.next; }
  static std::size_t hash(std::string_view k) { return std::hash<std::string_view>{}(k); }
};

// Every key in one bucket: chains must still work.
struct ByNumberColliding {
  static std::uint32_t key(const Item& i) { return i.number; }
  static Item*& next(Item& i) { return i.next; }
  static std::size_t hash(std::uint32_t) { return 7; }
};

}  // namespace

TEST_CASE("intrusive index: find, insert, erase, grow", "[broker][index]") {
  IntrusiveHashIndex<Item, ByName> index;
  CHECK(index.find("x") == nullptr);
  std::vector<std::unique_ptr<Item>> items;
  for (int i = 0; i < 1000; ++i) {
    items.push_back(std::make_unique<Item>(Item{"client-" + std::to_string(i)}));
    index.insert(items.back().get());
  }
  CHECK(index.size() == 1000);
  for (auto& it : items)
    CHECK(index.find(it->name) == it.get());
  CHECK(index.find("client-1000") == nullptr);

  CHECK(index.erase(items[10].get()));
  CHECK_FALSE(index.erase(items[10].get()));
  CHECK(index.find("client-10") == nullptr);
  CHECK(index.size() == 999);

  std::set<Item*> seen;
  index.for_each([&](Item* i) { CHECK(seen.insert(i).second); });
  CHECK(seen.size() == 999);
  CHECK_FALSE(seen.count(items[10].get()));
}

TEST_CASE("intrusive index: colliding keys share a chain", "[broker][index]") {
  IntrusiveHashIndex<Item, ByNumberColliding> index;
  std::vector<std::unique_ptr<Item>> items;
  for (std::uint32_t i = 0; i < 50; ++i) {
    items.push_back(std::make_unique<Item>(Item{"", i}));
    index.insert(items.back().get());
  }
  // Erase from the middle, the head and the tail of the one chain.
  for (std::uint32_t n : {25u, 49u, 0u})
    CHECK(index.erase(items[n].get()));
  for (std::uint32_t i = 0; i < 50; ++i) {
    const bool gone = i == 25 || i == 49 || i == 0;
    CHECK(index.find(i) == (gone ? nullptr : items[i].get()));
  }
}

TEST_CASE("intrusive index: matches a set under random operations", "[broker][index]") {
  std::mt19937 rng(99);
  IntrusiveHashIndex<Item, ByName> index;
  std::vector<std::unique_ptr<Item>> pool;
  for (int i = 0; i < 300; ++i)
    pool.push_back(std::make_unique<Item>(Item{"id" + std::to_string(i)}));
  std::set<Item*> in;
  for (int step = 0; step < 50000; ++step) {
    Item* it = pool[rng() % pool.size()].get();
    if (in.count(it)) {
      CHECK(index.erase(it));
      in.erase(it);
    } else {
      index.insert(it);
      in.insert(it);
    }
    Item* probe = pool[rng() % pool.size()].get();
    REQUIRE(index.find(probe->name) == (in.count(probe) ? probe : nullptr));
  }
  CHECK(index.size() == in.size());
}
