#include <catch2/catch.hpp>
#include <string>

#include "broker/routing/route_cache.hpp"

using Cache = shardmq::broker::RouteCache<int>;

TEST_CASE("route cache: a filled route is found until the version moves", "[broker][routes]") {
  Cache c(8);
  bool hit = true;
  auto& r = c.lookup("a/b", 1, hit);
  CHECK_FALSE(hit);
  r.subscribers = {1, 2};
  r.remote_mask = 0b100;
  c.store(r);

  auto& again = c.lookup("a/b", 1, hit);
  CHECK(hit);
  CHECK(&again == &r);
  CHECK(again.subscribers == std::vector<int>{1, 2});
  CHECK(again.remote_mask == 0b100);

  // A subscription changed: the route is matched again, from empty.
  auto& stale = c.lookup("a/b", 2, hit);
  CHECK_FALSE(hit);
  CHECK(stale.subscribers.empty());
  CHECK(stale.remote_mask == 0);
}

TEST_CASE("route cache: unfilled, colliding and oversized routes are not kept",
          "[broker][routes]") {
  Cache c(1);  // one slot: every topic collides
  bool hit = true;
  auto& r = c.lookup("x", 1, hit);
  r.subscribers = {7};  // not stored: a later lookup must not trust it
  auto& unkept = c.lookup("x", 1, hit);
  CHECK_FALSE(hit);
  CHECK(unkept.subscribers.empty());

  auto& a = c.lookup("a", 1, hit);
  a.subscribers = {1};
  c.store(a);
  auto& b = c.lookup("b", 1, hit);  // evicts "a"
  CHECK_FALSE(hit);
  b.subscribers = {2};
  c.store(b);
  c.lookup("a", 1, hit);
  CHECK_FALSE(hit);

  // Too many subscribers: used once from the scratch route, the slot keeps no big vector.
  auto& big = c.lookup("big", 1, hit);
  big.subscribers.assign(4 * Cache::kMaxSubscribers, 3);
  big.remote_mask = 0b10;
  auto& used = c.store(big);
  CHECK(&used != &big);
  CHECK(used.subscribers.size() == 4 * Cache::kMaxSubscribers);
  CHECK(used.remote_mask == 0b10);
  CHECK(big.subscribers.capacity() <= Cache::kMaxSubscribers);
  c.lookup("big", 1, hit);
  CHECK_FALSE(hit);

  // A topic longer than kMaxTopic is never kept either.
  const std::string long_topic(Cache::kMaxTopic + 1, 'l');
  auto& l = c.lookup(long_topic, 1, hit);
  l.subscribers = {1};
  c.store(l);
  c.lookup(long_topic, 1, hit);
  CHECK_FALSE(hit);
}

TEST_CASE("route cache: pauses itself while topics do not repeat", "[broker][routes]") {
  Cache c(64);
  bool hit = false;
  for (std::uint32_t i = 0; i < Cache::kWindow; ++i) {
    std::string topic = "t/";
    topic += std::to_string(i);
    auto& r = c.lookup(topic, 1, hit);
    c.store(r);
  }
  CHECK(c.paused());
  // While paused every lookup is a miss that is not kept, even for a repeated topic.
  for (int i = 0; i < 3; ++i) {
    auto& r = c.lookup("same", 1, hit);
    CHECK_FALSE(hit);
    r.subscribers = {1};
    c.store(r);
  }
  for (std::uint32_t i = 0; i < Cache::kPause; ++i)
    c.lookup("same", 1, hit);
  CHECK_FALSE(c.paused());
  auto& r = c.lookup("same", 1, hit);
  c.store(r);
  c.lookup("same", 1, hit);
  CHECK(hit);
}
