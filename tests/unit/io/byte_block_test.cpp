#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <utility>

#include "io/byte_block.hpp"

using shardmq::io::ByteBlock;

namespace {
std::string text(const ByteBlock& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
}  // namespace

TEST_CASE("byte block: one pointer, memory only while used", "[io][byte_block]") {
  STATIC_REQUIRE(sizeof(ByteBlock) == sizeof(void*));
  ByteBlock b;
  CHECK(b.empty());
  CHECK(b.capacity() == 0);
  CHECK(b.data() == nullptr);
  b.clear();  // harmless while empty
  b.grow(0);
  CHECK(b.reserve(0) == nullptr);  // nothing to write: no allocation
  CHECK(b.capacity() == 0);

  b.append("hello", 5);
  CHECK(text(b) == "hello");
  CHECK(b.capacity() >= 5);
  std::memcpy(b.reserve(6), " world", 6);
  b.grow(6);
  CHECK(text(b) == "hello world");

  const std::string big(100000, 'z');  // several doublings, contents kept
  b.append(big.data(), big.size());
  CHECK(b.size() == 11 + big.size());
  CHECK(text(b).substr(0, 11) == "hello world");
  CHECK(b.capacity() >= b.size());

  b.clear();
  CHECK(b.empty());
  CHECK(b.capacity() > 0);  // clear keeps the memory
  b.release();
  CHECK(b.capacity() == 0);
  CHECK(b.data() == nullptr);
}

TEST_CASE("byte block: move and swap hand the memory over", "[io][byte_block]") {
  ByteBlock a;
  a.append("abc", 3);
  ByteBlock b(std::move(a));
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  CHECK(text(b) == "abc");
  ByteBlock c;
  c.append("xy", 2);
  c.swap(b);
  CHECK(text(c) == "abc");
  CHECK(text(b) == "xy");
  b = std::move(c);
  CHECK(text(b) == "abc");
}
