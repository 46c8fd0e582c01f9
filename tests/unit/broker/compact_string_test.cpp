#include <catch2/catch.hpp>
#include <string>
#include <utility>

#include "broker/containers/compact_string.hpp"

using shardmq::broker::CompactString;

TEST_CASE("compact string: one pointer, holds any MQTT string", "[broker][compact_string]") {
  STATIC_REQUIRE(sizeof(CompactString) == sizeof(void*));
  CompactString empty;
  CHECK(empty.empty());
  CHECK(empty.size() == 0);
  CHECK(empty.view().empty());

  CompactString id("sensor-0042");
  CHECK_FALSE(id.empty());
  CHECK(id.view() == "sensor-0042");
  CHECK(std::string_view(id) == "sensor-0042");

  const std::string longest(65535, 'q');
  CompactString big(longest);
  CHECK(big.size() == 65535);
  CHECK(big.view() == longest);
  CompactString cut(longest + "extra");  // never longer than an MQTT string
  CHECK(cut.size() == 65535);

  id.assign("");
  CHECK(id.empty());
  id.assign("again");
  CHECK(id.view() == "again");
  id.assign(id.view().substr(1));  // from its own bytes
  CHECK(id.view() == "gain");
}

TEST_CASE("compact string: copies are deep, moves hand over", "[broker][compact_string]") {
  CompactString a("alpha");
  CompactString b(a);
  a.assign("changed");
  CHECK(b.view() == "alpha");
  b = a;
  CHECK(b.view() == "changed");
  CompactString c(std::move(a));
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): a moved-from string is empty
  CHECK(c.view() == "changed");
  c = std::move(b);
  CHECK(c.view() == "changed");
}
