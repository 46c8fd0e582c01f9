#include <catch2/catch.hpp>
#include <vector>

#include "io/timer_wheel.hpp"

using namespace shardmq::io;

namespace {
struct Timer {
  TimerNode node;
  int id = 0;
};
int id_of(TimerNode& n) {
  return reinterpret_cast<Timer*>(&n)->id;
}
}  // namespace

TEST_CASE("timer wheel: fires at the deadline, not before", "[io][timer]") {
  TimerWheel w(8);
  Timer t[4];
  for (int i = 0; i < 4; ++i)
    t[i].id = i;
  w.schedule(t[0].node, 3);
  w.schedule(t[1].node, 5);
  w.schedule(t[2].node, 5 + 8 * 3);  // three turns later, same slot as t[1]
  w.schedule(t[3].node, 2);
  CHECK(w.size() == 4);
  std::vector<int> fired;
  auto rec = [&](TimerNode& n) { fired.push_back(id_of(n)); };
  CHECK(w.advance(2, rec) == 1);
  CHECK(fired == std::vector<int>{3});
  CHECK(w.advance(4, rec) == 1);
  CHECK(fired == std::vector<int>{3, 0});
  CHECK(w.advance(5, rec) == 1);
  CHECK(fired.back() == 1);
  CHECK(t[2].node.scheduled());
  CHECK(w.advance(28, rec) == 0);
  CHECK(w.advance(29, rec) == 1);
  CHECK(fired.back() == 2);
  CHECK(w.size() == 0);
}

TEST_CASE("timer wheel: cancel, reschedule and past deadlines", "[io][timer]") {
  TimerWheel w(16, 100);
  Timer a, b;
  w.schedule(a.node, 110);
  w.schedule(b.node, 110);
  w.cancel(a.node);
  w.cancel(a.node);  // harmless twice
  CHECK_FALSE(a.node.scheduled());
  w.schedule(b.node, 120);  // moves, does not duplicate
  CHECK(w.size() == 1);
  int n = 0;
  w.advance(115, [&](TimerNode&) { ++n; });
  CHECK(n == 0);
  w.schedule(a.node, 50);  // already past: fires on the next advance
  w.advance(116, [&](TimerNode& x) {
    CHECK(&x == &a.node);
    ++n;
  });
  CHECK(n == 1);
  w.advance(120, [&](TimerNode& x) {
    CHECK(&x == &b.node);
    ++n;
  });
  CHECK(n == 2);
}

TEST_CASE("timer wheel: big jumps and keepalive re-check pattern", "[io][timer]") {
  TimerWheel w(64);
  std::vector<Timer> ts(1000);
  for (int i = 0; i < 1000; ++i) {
    ts[i].id = i;
    w.schedule(ts[i].node, 10 + i * 7);
  }
  std::vector<int> fired;
  w.advance(1000000, [&](TimerNode& n) { fired.push_back(id_of(n)); });
  CHECK(fired.size() == 1000);
  CHECK(w.size() == 0);

  // Keepalive: activity only writes a timestamp; on expiry the owner re-checks and
  // re-schedules from the last activity, inside the callback.
  Timer c;
  std::uint64_t last_activity = 0;
  const std::uint64_t limit = 30;
  w.schedule(c.node, 1000000 + limit);
  int expired = 0, rechecks = 0;
  auto check = [&](TimerNode& n, std::uint64_t now) {
    if (now - last_activity >= limit) {
      ++expired;
    } else {
      ++rechecks;
      w.schedule(n, last_activity + limit);
    }
  };
  for (std::uint64_t now = 1000001; now <= 1000100; ++now) {
    if (now < 1000050) last_activity = now;  // busy until tick 1000049
    w.advance(now, [&](TimerNode& n) { check(n, now); });
  }
  CHECK(expired == 1);
  CHECK(rechecks >= 1);
  CHECK_FALSE(c.node.scheduled());
}

TEST_CASE("timer wheel: callback may cancel another expired timer", "[io][timer]") {
  TimerWheel w(8);
  Timer a, b;
  w.schedule(a.node, 3);
  w.schedule(b.node, 3);
  int n = 0;
  w.advance(3, [&](TimerNode& x) {
    ++n;
    w.cancel(&x == &a.node ? b.node : a.node);
  });
  CHECK(n == 1);
  CHECK(w.size() == 0);
}
