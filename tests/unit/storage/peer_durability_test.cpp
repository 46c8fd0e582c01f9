// PeerDurability: an origin shard's tickets are through() only once every shard they went to
// confirmed them; a peer confirms an origin's newest ticket once its writes for it are durable.
#include "broker/storage/peer_durability.hpp"

#include <catch2/catch.hpp>

#include <utility>
#include <vector>

namespace shardmq::broker {
namespace {

using Confirmed = std::vector<std::pair<unsigned, std::uint64_t>>;

Confirmed confirm(PeerDurability& p, std::uint64_t durable) {
  Confirmed out;
  p.confirm(durable, [&](unsigned from, std::uint64_t t) { out.emplace_back(from, t); });
  return out;
}

TEST_CASE("peer durability: off with one shard or without sync", "[storage][peer_durability]") {
  PeerDurability one(1, true), batched(4, false);
  CHECK_FALSE(one.enabled());
  CHECK(batched.sent(0b1110) == 0);
  CHECK(batched.last_ticket() == 0);
}

TEST_CASE("peer durability: a ticket is through once every shard it went to confirmed it",
          "[storage][peer_durability]") {
  PeerDurability p(4, true);
  CHECK(p.through() == 0);
  const auto t1 = p.sent(0b0110);  // shards 1 and 2
  const auto t2 = p.sent(0b1000);  // shard 3
  CHECK(t1 == 1);
  CHECK(t2 == 2);
  CHECK(p.through() == 0);
  p.confirmed(1, t1);
  CHECK(p.through() == 0);  // shard 2 has not
  p.confirmed(3, t2);
  CHECK(p.through() == 0);
  p.confirmed(2, t1);
  CHECK(p.through() == 2);  // nothing outstanding anywhere
  const auto t3 = p.sent(0b0010);
  // Conservative: shard 1 owes something after ticket 1, and which tickets went there is
  // not kept, so 2 (shard 3's, confirmed) waits too, until shard 1 confirms 3 or later.
  CHECK(p.through() == 1);
  p.confirmed(1, t3);
  CHECK(p.through() == 3);
}

TEST_CASE("peer durability: a confirmation covers every earlier ticket to that shard",
          "[storage][peer_durability]") {
  PeerDurability p(2, true);
  p.sent(0b10);
  p.sent(0b10);
  const auto t = p.sent(0b10);
  p.confirmed(1, t);
  CHECK(p.through() == t);
}

TEST_CASE("peer durability: a peer confirms each origin's newest ticket once it is durable",
          "[storage][peer_durability]") {
  PeerDurability p(3, true);
  CHECK(confirm(p, 100).empty());
  p.arrived(0, 5, 10);
  p.arrived(0, 6, 12);  // newer, from the same origin: one confirmation for both
  p.arrived(2, 9, 11);
  p.arrived(1, 0, 50);  // no ticket: nothing owed
  CHECK(confirm(p, 9).empty());
  CHECK(confirm(p, 11) == Confirmed{{2, 9}});
  CHECK(confirm(p, 11).empty());
  CHECK(confirm(p, 12) == Confirmed{{0, 6}});
  CHECK(confirm(p, 1000).empty());
}

TEST_CASE("peer durability: a relay confirms only once its own ticket for the hand-off is through",
          "[storage][peer_durability]") {
  PeerDurability owner(3, true);       // shard 1: a shared group's owner
  owner.arrived(0, 4, 10);             // shard 0's publish, nothing handed on
  const auto own = owner.sent(0b100);  // the next goes to a member homed on shard 2
  owner.arrived(0, 5, 11, own);
  CHECK(confirm(owner, 11).empty());  // written here, not yet on shard 2
  owner.confirmed(2, own);
  CHECK(confirm(owner, 11) == Confirmed{{0, 5}});
  owner.arrived(0, 6, 12);  // later, nothing handed on: waits for nothing of the old hand-off
  CHECK(confirm(owner, 12) == Confirmed{{0, 6}});
}

}  // namespace
}  // namespace shardmq::broker
