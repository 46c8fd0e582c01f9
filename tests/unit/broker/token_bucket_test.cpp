// The token buckets behind the connect and publish rates: a new bucket is full, refills at
// its rate up to its burst, may go into debt (take) or refuse (try_take), and the connect
// rate's table of addresses stays bounded.
#include <catch2/catch.hpp>

#include <string>

#include "broker/limits/connect_rate.hpp"
#include "broker/limits/token_bucket.hpp"

using namespace shardmq::broker;

TEST_CASE("token bucket: burst, refill, refusal", "[limits]") {
  TokenBucket b;
  for (int i = 0; i < 3; ++i)
    CHECK(b.try_take(1, 1000, 2, 3));
  CHECK_FALSE(b.try_take(1, 1000, 2, 3));  // burst of 3 spent
  CHECK_FALSE(b.try_take(1, 1499, 2, 3));  // 2 a second: 0.998 tokens
  CHECK(b.try_take(1, 1500, 2, 3));
  CHECK_FALSE(b.full(1500, 2, 3));
  CHECK(b.full(1500 + 1501, 2, 3));
  for (int i = 0; i < 3; ++i)  // a long silence refills to the burst, not beyond
    CHECK(b.try_take(1, 1000000, 2, 3));
  CHECK_FALSE(b.try_take(1, 1000000, 2, 3));
}

TEST_CASE("token bucket: debt, and the time until it is paid", "[limits]") {
  TokenBucket b;
  CHECK(b.take(500, 0, 1000, 1000) == 0);
  CHECK(b.take(500, 0, 1000, 1000) == 0);
  CHECK(b.take(1500, 0, 1000, 1000) == 1500);  // a cost beyond the burst still passes
  CHECK(b.take(0, 1000, 1000, 1000) == 500);
  CHECK(b.take(0, 1500, 1000, 1000) == 0);
  CHECK(TokenBucket::burst_or_default(50, 0) == 50);
  CHECK(TokenBucket::burst_or_default(50, 7) == 7);
}

TEST_CASE("connect rate: per address, and bounded", "[limits]") {
  ConnectRate r;
  CHECK(r.allow("a", 0, 1, 1));
  CHECK_FALSE(r.allow("a", 0, 1, 1));
  CHECK(r.allow("b", 0, 1, 1));
  CHECK(r.allow("a", 1000, 1, 1));
  CHECK(r.allow("a", 0, 0, 0));  // no limit
  for (std::size_t i = 0; i < ConnectRate::kMaxAddresses + 10; ++i)
    r.allow(std::to_string(i), 5000, 1, 1);
  CHECK(r.size() <= ConnectRate::kMaxAddresses);
}
