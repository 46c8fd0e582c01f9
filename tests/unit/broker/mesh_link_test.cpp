// MeshLink: envelopes that meet a full ring wait in order and go once there is room, the
// publisher that filled it is paused until then, envelopes to the shard itself are handled
// at once, and barriers count the slowest shard.
#include <catch2/catch.hpp>

#include "shard_parts.hpp"

namespace shardmq::broker::test {
namespace {

ShardEnvelope numbered(std::uint32_t n) {
  return ShardEnvelope{Kind::barrier, 0, 0, n};
}

// Pops what the ring from shard 0 to shard 1 holds (as shard 1 would), returning the numbers.
std::vector<std::uint32_t> take(ShardMesh& mesh) {
  std::vector<std::uint32_t> out;
  ShardEnvelope e;
  while (mesh.ring(0, 1).try_pop(e))
    out.push_back(e.seq);
  return out;
}

std::vector<std::uint32_t> range(std::uint32_t from, std::uint32_t to) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = from; i < to; ++i)
    out.push_back(i);
  return out;
}

TEST_CASE("mesh link: what a full ring cannot take waits, in order, for flush", "[broker][mesh]") {
  ShardParts f(Config{}, 4);
  REQUIRE(f.mesh.ring(0, 1).capacity() == 4);
  for (std::uint32_t i = 0; i < 10; ++i)
    f.link.push(1, numbered(i), nullptr);
  CHECK(f.mesh.ring(0, 1).size_approx() == 4);

  f.link.flush();  // still full: nothing moves, nothing is lost
  CHECK(f.mesh.ring(0, 1).size_approx() == 4);

  CHECK(take(f.mesh) == range(0, 4));
  f.link.push(1, numbered(10), nullptr);  // behind the backlog, not ahead of it
  CHECK(take(f.mesh).empty());
  f.link.flush();
  CHECK(take(f.mesh) == range(4, 8));
  f.link.flush();
  CHECK(take(f.mesh) == range(8, 11));
  f.link.flush();
  CHECK(take(f.mesh).empty());
}

TEST_CASE("mesh link: the consumer that drains a ring wakes its blocked producer",
          "[broker][mesh]") {
  ShardParts f(Config{}, 4);
  // Shard 1's end of the mesh.
  ShardContext ctx1{1, 2, f.cfg, f.stats.shards[1]};
  ConnectionTable connections1{ctx1, f.listeners};
  MeshLink link1{ctx1, f.mesh, connections1};

  for (std::uint32_t i = 0; i < 6; ++i)
    f.link.push(1, numbered(i), nullptr);
  const int wakes = f.loop0.wakes;
  std::vector<std::uint32_t> got;
  link1.drain([&](ShardEnvelope& e) { got.push_back(e.seq); });
  CHECK(got == range(0, 4));
  CHECK(f.loop0.wakes == wakes + 1);  // shard 0 may push its backlog now

  f.link.flush();
  link1.drain([&](ShardEnvelope& e) { got.push_back(e.seq); });
  CHECK(got == range(0, 6));
  CHECK(f.loop0.wakes == wakes + 1);  // no longer blocked: no wake
}

TEST_CASE("mesh link: a publisher that meets a full ring is paused until it drains",
          "[broker][mesh]") {
  ShardParts f(Config{}, 4);
  Connection* c = f.connections.accept(0, 42, io::PeerAddress{});
  REQUIRE(c);
  for (std::uint32_t i = 0; i < 4; ++i)
    f.link.push(1, numbered(i), c);
  CHECK_FALSE(c->ring_paused);  // everything fitted
  CHECK(f.loop0.paused == 0);

  f.link.push(1, numbered(4), c);
  f.link.push(1, numbered(5), c);
  CHECK(c->ring_paused);
  CHECK(f.loop0.paused == 1);  // told once

  f.link.flush();  // the backlog is still there
  CHECK(c->ring_paused);
  CHECK(f.loop0.resumed == 0);

  CHECK(take(f.mesh) == range(0, 4));
  f.link.flush();
  CHECK(take(f.mesh) == range(4, 6));
  CHECK_FALSE(c->ring_paused);
  CHECK(f.loop0.resumed == 1);

  f.link.forget(c);
  f.connections.on_closed(*c);
  CHECK(f.connections.empty());
}

TEST_CASE("mesh link: an envelope to the shard itself is handled at once", "[broker][mesh]") {
  ShardParts f;
  f.link.send(0, numbered(7));
  REQUIRE(f.self.got.size() == 1);
  CHECK(f.self.got[0].seq == 7);
  CHECK(f.mesh.ring(0, 1).empty());

  f.link.send(1, numbered(8));
  CHECK(f.self.got.size() == 1);
  CHECK(take(f.mesh) == std::vector<std::uint32_t>{8});
}

TEST_CASE("mesh link: a barrier is done once every other shard answered it", "[broker][mesh]") {
  ShardMesh mesh(3, 16);
  NullLoop loops[3];
  for (unsigned i = 0; i < 3; ++i)
    mesh.attach_loop(i, &loops[i]);
  Config cfg;
  TwoShardStats stats;  // counters for shards 0 and 1 are enough here
  ShardContext ctx{0, 3, cfg, stats.shards[0]};
  std::vector<std::unique_ptr<ListenerRuntime>> listeners;
  ConnectionTable connections{ctx, listeners};
  MeshLink link{ctx, mesh, connections};

  CHECK(link.issue_barrier() == 1);
  CHECK(link.issue_barrier() == 2);
  CHECK(link.last_barrier() == 2);
  CHECK(mesh.ring(0, 1).size_approx() == 2);
  CHECK(mesh.ring(0, 2).size_approx() == 2);
  CHECK(link.barriers_done() == 0);
  link.barrier_answered(1, 2);
  CHECK(link.barriers_done() == 0);  // shard 2 has answered none
  link.barrier_answered(2, 1);
  CHECK(link.barriers_done() == 1);
  link.barrier_answered(2, 2);
  CHECK(link.barriers_done() == 2);
}

}  // namespace
}  // namespace shardmq::broker::test
