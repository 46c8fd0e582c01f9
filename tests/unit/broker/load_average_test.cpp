// LoadAverage ($SYS/broker/load/...): per-minute rates smoothed over 1, 5 and 15 minutes.
#include <catch2/catch.hpp>

#include <cmath>

#include "broker/sys/load_average.hpp"

namespace shardmq::broker {
namespace {

TEST_CASE("load average: the first update is a baseline, not a rate", "[broker][sys]") {
  LoadAverage a;
  CHECK_FALSE(a.ready());
  a.update(1000, 10);
  CHECK(a.ready());
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(a.per_minute(i) == 0);
}

TEST_CASE("load average: one interval moves each average by 1 - e^(-dt/T)", "[broker][sys]") {
  LoadAverage a;
  a.update(0, 10);
  a.update(50, 10);  // 50 in 10 s: 300 a minute
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(a.per_minute(i) == Approx(300.0 * (1 - std::exp(-10.0 / LoadAverage::kPeriodsS[i]))));
  CHECK(a.per_minute(0) > a.per_minute(1));
  CHECK(a.per_minute(1) > a.per_minute(2));
  CHECK(a.per_minute(0) <= 50);  // a burst never averages above its count
}

TEST_CASE("load average: a steady rate brings every average to it", "[broker][sys]") {
  LoadAverage a;
  std::uint64_t total = 0;
  a.update(total, 10);
  for (int i = 0; i < 2000; ++i)  // 20000 s
    a.update(total += 20, 10);    // 120 a minute
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(a.per_minute(i) == Approx(120.0).epsilon(1e-6));
  for (int i = 0; i < 60; ++i)  // then nothing for 10 minutes
    a.update(total, 10);
  CHECK(a.per_minute(0) < a.per_minute(1));  // the 1-minute one falls first
  CHECK(a.per_minute(1) < a.per_minute(2));
}

}  // namespace
}  // namespace shardmq::broker
