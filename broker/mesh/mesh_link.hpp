// A shard's end of the mesh: it sends envelopes to other shards (keeping, in order, those
// that meet a full ring, and pausing the publisher that filled it), wakes each shard it sent
// to once per turn, drains what other shards sent here, and counts barriers. It knows nothing
// of what the envelopes carry.
//
// Owns: the per-destination backlogs, the publishers paused on them, the barrier counters.
// Calls: ShardMesh, ConnectionTable (to pause and resume a publisher's receive), and the
// EnvelopeHandler for envelopes this shard sends itself. Called by every part that talks to
// another shard.
#pragma once

#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "broker/mesh/envelope_handler.hpp"
#include "broker/mesh/shard_envelope.hpp"
#include "broker/mesh/shard_mesh.hpp"
#include "broker/shard/shard_context.hpp"

namespace shardmq::broker {

struct Connection;
class ConnectionTable;

class MeshLink {
 public:
  MeshLink(ShardContext& ctx, ShardMesh& mesh, ConnectionTable& connections);
  ~MeshLink();  // releases what is still in the backlogs and the inbound rings
  MeshLink(const MeshLink&) = delete;
  MeshLink& operator=(const MeshLink&) = delete;

  void set_handler(EnvelopeHandler* handler) { handler_ = handler; }
  unsigned shards() const { return mesh_.shards(); }
  // The exact-filter interest all shards share (routing/exact_interest.hpp).
  ExactInterest& exact_interest() { return mesh_.exact_interest(); }

  // To shard `to`; to this shard itself, handled at once. A publisher given here stops
  // being read while its envelope waits for room in a full ring.
  void send(unsigned to, const ShardEnvelope& e, Connection* publisher = nullptr) {
    if (to == ctx_.id) {
      handler_->on_envelope(e);
      return;
    }
    push(to, e, publisher);
  }
  // To another shard only (never this one).
  void push(unsigned to, const ShardEnvelope& e, Connection* publisher);
  // To every other shard, each getting its own copy from `make()`.
  template <typename Make>
  void broadcast(Make&& make) {
    for (unsigned to = 0; to < mesh_.shards(); ++to)
      if (to != ctx_.id) push(to, make(), nullptr);
  }

  // Hands every envelope waiting in the inbound rings to `handle` (bounded per ring), and
  // wakes a producer that was blocked on a ring it drained. Returns how many it handed.
  template <typename Handle>
  std::size_t drain(Handle&& handle) {
    std::size_t total = 0;
    for (unsigned from = 0; from < mesh_.shards(); ++from) {
      if (from == ctx_.id) continue;
      std::size_t n = mesh_.ring(from, ctx_.id).drain(handle, 4096);
      if (n && mesh_.take_blocked(from, ctx_.id)) mesh_.wake(from);
      total += n;
    }
    return total;
  }
  // End of turn: pushes backlogs, wakes the shards sent to, resumes paused publishers once
  // every backlog has drained.
  void flush();
  // A connection is being freed: forget it as a paused publisher.
  void forget(Connection* c);

  // The loop's sleep protocol (ShardMesh::prepare_sleep); true when something arrived.
  void cancel_sleep() { mesh_.cancel_sleep(ctx_.id); }
  bool prepare_sleep() {
    mesh_.prepare_sleep(ctx_.id);
    return !mesh_.inbound_empty(ctx_.id);
  }
  void wake_self() { mesh_.wake(ctx_.id); }

  // Barriers: issue() sends one to every other shard; each answers once it has applied
  // everything this shard sent before it. done() is the highest barrier all have answered.
  std::uint32_t issue_barrier();
  std::uint32_t last_barrier() const { return barrier_issued_; }
  void barrier_answered(unsigned from, std::uint32_t seq) { barrier_acked_[from] = seq; }
  std::uint32_t barriers_done() const;

 private:
  ShardContext& ctx_;
  ShardMesh& mesh_;
  ConnectionTable& connections_;
  EnvelopeHandler* handler_ = nullptr;
  std::uint64_t notify_mask_ = 0;  // shards pushed to this turn, woken at turn end
  // Envelopes that did not fit a full ring, per destination, and the publishers paused
  // until they drain (back-pressure instead of loss).
  std::vector<std::deque<ShardEnvelope>> backlog_;
  std::vector<std::pair<Connection*, std::uint32_t>> paused_publishers_;
  std::uint32_t barrier_issued_ = 0;
  std::vector<std::uint32_t> barrier_acked_;  // per peer shard
};

}  // namespace shardmq::broker
