// RetainedStore: every replica keeps the same last writer (Lamport order, ties by shard),
// empty payloads clear, and the ceiling drops new topics.
#include <catch2/catch.hpp>

#include <optional>

#include "shard_parts.hpp"

namespace shardmq::broker::test {
namespace {

// Another shard's update, applied as the envelope dispatch does.
void apply(RetainedStore& r, std::string_view topic, std::string_view payload,
           std::uint64_t lamport, unsigned from) {
  PublishedMessage* m = PublishedMessage::create(topic, {}, payload, 1, true, 0);
  REQUIRE(m);
  r.apply_remote(m, lamport, from);
  m->release();
}

// The payload retained for `topic`, if any.
std::optional<std::string> retained(RetainedStore& r, std::string_view topic) {
  std::optional<std::string> out;
  auto cursor = r.start(topic);
  r.resume(cursor, [&](std::string_view t, const RetainedMessage& m) {
    if (t == topic) out = std::string(m.message()->payload());
    return true;
  });
  return out;
}

std::uint64_t retained_dropped(const ShardParts& f) {
  return f.stats.shards[0].retained_dropped.load(std::memory_order_relaxed);
}

TEST_CASE("retained: the later Lamport update wins in either arrival order", "[broker][retained]") {
  ShardParts f;
  RetainedStore in_order{f.ctx, f.link, f.storage};
  RetainedStore reversed{f.ctx, f.link, f.storage};
  apply(in_order, "t", "old", 3, 1);
  apply(in_order, "t", "new", 5, 1);
  apply(reversed, "t", "new", 5, 1);
  apply(reversed, "t", "old", 3, 1);
  CHECK(retained(in_order, "t") == "new");
  CHECK(retained(reversed, "t") == "new");
  CHECK(in_order.size() == 1);
  CHECK(reversed.size() == 1);
}

TEST_CASE("retained: equal Lamport times are ordered by shard number", "[broker][retained]") {
  ShardParts f;
  RetainedStore a{f.ctx, f.link, f.storage};
  RetainedStore b{f.ctx, f.link, f.storage};
  apply(a, "t", "from 0", 5, 0);
  apply(a, "t", "from 1", 5, 1);
  apply(b, "t", "from 1", 5, 1);
  apply(b, "t", "from 0", 5, 0);
  CHECK(retained(a, "t") == "from 1");
  CHECK(retained(b, "t") == "from 1");
}

TEST_CASE("retained: a local retain follows the latest time this shard has seen",
          "[broker][retained]") {
  ShardParts f;
  apply(f.retained, "t", "remote", 7, 1);
  f.publish("t", "local", 1, true);  // Lamport 8 on shard 0: later than (7, shard 1)
  CHECK(retained(f.retained, "t") == "local");
  f.to_clients();
  auto sets = ShardParts::of_kind(f.routing, Kind::retain_set);
  REQUIRE(sets.size() == 1);  // sent to the other replica with its time
  CHECK((std::uint64_t(sets[0].target) << 32 | sets[0].seq) == 8);
  CHECK(sets[0].from == 0);
  CHECK(static_cast<PublishedMessage*>(sets[0].ptr)->payload() == "local");

  // A remote update at the same time from a higher shard still wins the tie.
  apply(f.retained, "t", "remote again", 8, 1);
  CHECK(retained(f.retained, "t") == "remote again");
}

TEST_CASE("retained: an empty payload clears, unless a later update is kept",
          "[broker][retained]") {
  ShardParts f;
  apply(f.retained, "t", "x", 1, 0);
  apply(f.retained, "u", "y", 1, 0);
  CHECK(f.retained.size() == 2);
  apply(f.retained, "t", "", 2, 1);
  CHECK_FALSE(retained(f.retained, "t"));
  CHECK(f.retained.size() == 1);
  CHECK(retained(f.retained, "u") == "y");

  apply(f.retained, "u", "", 0, 1);  // older than what is kept: ignored
  CHECK(retained(f.retained, "u") == "y");

  // A local retained PUBLISH with an empty payload clears too.
  f.publish("u", "", 0, true);
  CHECK(f.retained.size() == 0);
}

// A clear used to leave no trace of its time, so an older update arriving after it from
// another shard's ring brought the topic back on this replica only; a tombstone now stops it.
TEST_CASE("retained: a clear is not undone by an older update arriving later",
          "[broker][retained]") {
  ShardParts f;
  RetainedStore in_order{f.ctx, f.link, f.storage};
  RetainedStore reversed{f.ctx, f.link, f.storage};
  apply(in_order, "t", "x", 5, 0);
  apply(in_order, "t", "", 6, 1);
  apply(reversed, "t", "", 6, 1);
  apply(reversed, "t", "x", 5, 0);
  CHECK_FALSE(retained(in_order, "t"));
  CHECK_FALSE(retained(reversed, "t"));
}

TEST_CASE("retained: max_retained_messages drops new topics, not updates", "[broker][retained]") {
  Config c;
  c.max_retained_messages = 2;
  ShardParts f(c);
  apply(f.retained, "a", "1", 1, 1);
  apply(f.retained, "b", "1", 2, 1);
  apply(f.retained, "c", "1", 3, 1);
  CHECK(f.retained.size() == 2);
  CHECK_FALSE(retained(f.retained, "c"));
  CHECK(retained_dropped(f) == 1);

  f.publish("d", "local", 0, true);  // a local one is dropped the same way
  CHECK(f.retained.size() == 2);
  CHECK(retained_dropped(f) == 2);

  apply(f.retained, "a", "2", 4, 1);  // an existing topic may change at the limit
  CHECK(retained(f.retained, "a") == "2");
  CHECK(retained_dropped(f) == 2);

  apply(f.retained, "b", "", 5, 1);  // a clear makes room
  apply(f.retained, "c", "1", 6, 1);
  CHECK(retained(f.retained, "c") == "1");
  CHECK(retained_dropped(f) == 2);
}

TEST_CASE("retained: max_retained_bytes drops new topics", "[broker][retained]") {
  Config c;
  c.max_retained_bytes = 8;
  ShardParts f(c);
  apply(f.retained, "a", "1234", 1, 1);
  apply(f.retained, "b", "123456789", 2, 1);
  CHECK(f.retained.size() == 1);
  CHECK(retained_dropped(f) == 1);
}

}  // namespace
}  // namespace shardmq::broker::test
