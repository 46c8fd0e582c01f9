#include <catch2/catch.hpp>
#include <cstdint>
#include <semaphore>
#include <thread>
#include <vector>

#include "io/spsc_ring.hpp"
#include "io/wake_flag.hpp"

using shardmq::io::SpscRing;
using shardmq::io::WakeFlag;

TEST_CASE("spsc ring: capacity, FIFO, full and empty", "[io][ring]") {
  SpscRing<int> r(5);
  CHECK(r.capacity() == 8);
  CHECK(r.empty());
  for (int i = 0; i < 8; ++i)
    CHECK(r.try_push(i));
  CHECK_FALSE(r.try_push(99));
  CHECK(r.size_approx() == 8);
  int v = -1;
  for (int i = 0; i < 8; ++i) {
    REQUIRE(r.try_pop(v));
    CHECK(v == i);
  }
  CHECK_FALSE(r.try_pop(v));
  CHECK(r.empty());
}

TEST_CASE("spsc ring: batch push, pop_batch and drain wrap around", "[io][ring]") {
  SpscRing<int> r(8);
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 50; ++round) {
    int items[6];
    for (int& x : items)
      x = next_in++;
    const std::size_t pushed = r.push(items, 6);
    next_in -= static_cast<int>(6 - pushed);  // unpushed items are retried next round
    int out[3];
    const std::size_t n = r.pop_batch(out, 3);
    for (std::size_t i = 0; i < n; ++i)
      CHECK(out[i] == next_out++);
    r.drain([&](int& x) { CHECK(x == next_out++); }, 2);
  }
  r.drain([&](int& x) { CHECK(x == next_out++); });
  CHECK(next_out == next_in);
  CHECK(r.empty());
}

TEST_CASE("spsc ring: push returns 0 when full, moves only what fits", "[io][ring]") {
  SpscRing<std::unique_ptr<int>> r(2);
  std::unique_ptr<int> items[3] = {std::make_unique<int>(1), std::make_unique<int>(2),
                                   std::make_unique<int>(3)};
  CHECK(r.push(items, 3) == 2);
  CHECK(items[2] != nullptr);
  CHECK(items[0] == nullptr);
  CHECK(r.push(items + 2, 1) == 0);
  std::unique_ptr<int> out;
  REQUIRE(r.try_pop(out));
  CHECK(*out == 1);
}

TEST_CASE("spsc ring: two-thread stress, every item once and in order", "[io][ring]") {
  constexpr std::uint64_t kItems = 3'000'000;
  SpscRing<std::uint64_t> r(1024);
  std::thread producer([&] {
    std::uint64_t next = 0;
    std::uint64_t batch[32];
    while (next < kItems) {
      if ((next / 1000) % 2 == 0) {  // alternate single and batch pushes
        if (r.try_push(next))
          ++next;
        else
          std::this_thread::yield();
      } else {
        std::size_t n = 0;
        while (n < 32 && next + n < kItems)
          batch[n] = next + n, ++n;
        const std::size_t k = r.push(batch, n);
        next += k;
        if (k == 0) std::this_thread::yield();
      }
    }
  });
  std::uint64_t expect = 0, bad = 0;
  std::uint64_t buf[64];
  while (expect < kItems) {
    std::size_t n;
    if (expect % 3 == 0) {
      n = r.pop_batch(buf, 64);
      for (std::size_t i = 0; i < n; ++i)
        bad += buf[i] != expect++;
    } else {
      n = r.drain([&](std::uint64_t& v) { bad += v != expect++; }, 17);
    }
    if (n == 0) std::this_thread::yield();
  }
  producer.join();
  CHECK(bad == 0);
  CHECK(expect == kItems);
  CHECK(r.empty());
}

TEST_CASE("wake flag: a consumer that sleeps is never left asleep with work", "[io][ring]") {
  // The consumer blocks on a semaphore only after prepare_sleep + re-check; the producer
  // releases it only when should_wake(). A lost wake-up shows as a 10 s stall (failure).
  constexpr int kItems = 200'000;
  SpscRing<int> r(64);
  WakeFlag flag;
  std::counting_semaphore<> sem(0);
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) {
      while (!r.try_push(i))
        std::this_thread::yield();
      if (flag.should_wake()) sem.release();
    }
  });
  int expect = 0, bad = 0, stalls = 0, sleeps = 0;
  while (expect < kItems && stalls == 0) {
    int v;
    if (r.try_pop(v)) {
      bad += v != expect++;
      continue;
    }
    flag.prepare_sleep();
    if (!r.empty()) {
      flag.cancel_sleep();
      continue;
    }
    ++sleeps;
    if (!sem.try_acquire_for(std::chrono::seconds(10))) ++stalls;
    flag.cancel_sleep();
  }
  producer.join();
  CHECK(stalls == 0);
  CHECK(bad == 0);
  CHECK(expect == kItems);
  INFO("consumer slept " << sleeps << " times");
}
