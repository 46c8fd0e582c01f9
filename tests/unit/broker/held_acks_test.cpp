// HeldAcks: a publisher's acknowledgements go in arrival order, each once its writes are
// durable, and none overtakes one still waiting.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "broker/connection/held_acks.hpp"

namespace shardmq::broker {
namespace {

std::vector<std::uint32_t> release(HeldAcks& h, std::uint64_t durable, bool* none_left = nullptr,
                                   std::uint64_t peers = UINT64_MAX) {
  std::vector<std::uint32_t> sent;
  bool empty = h.release(durable, peers, [&](std::uint32_t ack) { sent.push_back(ack); });
  if (none_left) *none_left = empty;
  return sent;
}

TEST_CASE("held acks: sent in order up to the first whose write is not durable",
          "[broker][held_acks]") {
  HeldAcks h;
  h.hold(1, 0);  // needs no write
  h.hold(2, 5);
  h.hold(3 | HeldAcks::kPubRec, 3);  // durable before 2, but arrived after it
  h.hold(4, 10);
  REQUIRE(h.size() == 4);

  bool none_left = true;
  CHECK(release(h, 4, &none_left) == std::vector<std::uint32_t>{1});
  CHECK_FALSE(none_left);
  CHECK(h.size() == 3);

  CHECK(release(h, 4).empty());  // nothing new is durable: nothing goes
  CHECK(h.size() == 3);

  CHECK(release(h, 9, &none_left) == std::vector<std::uint32_t>{2, 3 | HeldAcks::kPubRec});
  CHECK_FALSE(none_left);
  CHECK(h.size() == 1);

  CHECK(release(h, 10, &none_left) == std::vector<std::uint32_t>{4});
  CHECK(none_left);
  CHECK(h.empty());
}

TEST_CASE("held acks: nothing durable sends nothing; clear forgets all", "[broker][held_acks]") {
  HeldAcks h;
  bool none_left = false;
  CHECK(release(h, 0, &none_left).empty());
  CHECK(none_left);

  h.hold(7, 2);
  h.hold(8, 1);
  CHECK(release(h, 1, &none_left).empty());  // 8 is durable but waits behind 7
  CHECK_FALSE(none_left);
  CHECK(h.size() == 2);
  h.clear();
  CHECK(h.empty());
  CHECK(release(h, 100, &none_left).empty());
  CHECK(none_left);
}

TEST_CASE("held acks: one sent to other shards also waits for their ticket",
          "[broker][held_acks]") {
  HeldAcks h;
  h.hold(1, 2, 7);                            // local write 2, other shards' ticket 7
  h.hold(2, 3);                               // local only, but behind 1
  CHECK(release(h, 10, nullptr, 6).empty());  // local durable, peers not yet
  bool none_left = false;
  CHECK(release(h, 10, &none_left, 7) == std::vector<std::uint32_t>{1, 2});
  CHECK(none_left);
}

TEST_CASE("held acks: while storage fails, what is not durable is refused, a PUBCOMP waits",
          "[broker][held_acks]") {
  HeldAcks h;
  h.hold(1, 2);                       // durable: sent
  h.hold(2, 5);                       // not durable: refused
  h.hold(3 | HeldAcks::kPubRec, 6);   // refused too
  h.hold(4 | HeldAcks::kPubComp, 7);  // cannot be refused: waits, and what is behind it
  h.hold(5, 3);
  CHECK(h.pubacks() == 3);
  std::vector<std::uint32_t> sent, refused;
  bool none_left = h.release_or_refuse(
      4, UINT64_MAX, [&](std::uint32_t a) { sent.push_back(a); },
      [&](std::uint32_t a) { refused.push_back(a); });
  CHECK(!none_left);
  CHECK(sent == std::vector<std::uint32_t>{1});
  CHECK(refused == std::vector<std::uint32_t>{2, 3 | HeldAcks::kPubRec});
  CHECK(h.pubacks() == 1);  // 5, behind the PUBCOMP
  CHECK(release(h, 7, &none_left) == std::vector<std::uint32_t>{4 | HeldAcks::kPubComp, 5});
  CHECK(none_left);
}

}  // namespace
}  // namespace shardmq::broker
