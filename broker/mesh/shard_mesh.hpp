// The only way shards talk: for every ordered pair (from, to) one bounded SPSC ring of
// ShardEnvelopes, plus each shard's "idle" flag so a producer wakes a consumer only when
// the consumer may be about to sleep. Built before the shard threads start; immutable after.
// It also holds the one table the shards share instead of telling each other through the
// rings: which shards subscribe to each filter without wildcards (routing/exact_interest.hpp).
//
// Memory: (shards x (shards - 1)) rings, so their size shrinks as the shards multiply
// (ring_capacity_for): 4,096 slots each up to 4 shards, 256 from 16 shards on, which keeps
// the rings of 64 shards at 25 MB instead of 400. A full ring is never loss (MeshLink keeps
// a backlog), only a shorter batch.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "broker/mesh/shard_envelope.hpp"
#include "broker/routing/exact_interest.hpp"
#include "io/loop.hpp"
#include "io/spsc_ring.hpp"
#include "io/wake_flag.hpp"

namespace shardmq::broker {

class ShardMesh {
 public:
  ShardMesh(unsigned shards, std::size_t ring_capacity);

  // Slots per ring for `shards` shards: 65,536 / shards^2, within [256, 4096].
  static std::size_t ring_capacity_for(unsigned shards);

  unsigned shards() const { return n_; }
  // from != to: a shard has no ring to itself.
  io::SpscRing<ShardEnvelope>& ring(unsigned from, unsigned to) { return *rings_[from * n_ + to]; }
  // Any thread: envelopes waiting in the rings into `to` (approximate: they move meanwhile).
  std::size_t backlog_into(unsigned to) const {
    std::size_t n = 0;
    for (unsigned from = 0; from < n_; ++from)
      if (from != to) n += rings_[from * n_ + to]->size_approx();
    return n;
  }

  // Each shard registers its loop before serving, so producers can wake it.
  void attach_loop(unsigned shard, io::Loop* loop) { slots_[shard].loop = loop; }

  // Consumer side (io::WakeFlag's protocol): before it blocks, a shard declares the sleep and
  // then re-checks its inbound rings; once awake it cancels the declaration.
  void prepare_sleep(unsigned shard) { slots_[shard].wake.prepare_sleep(); }
  void cancel_sleep(unsigned shard) { slots_[shard].wake.cancel_sleep(); }
  bool inbound_empty(unsigned shard);

  // A producer whose ring to `to` is full flags it; the consumer, after draining that
  // ring, takes the flag and wakes the producer so it can push its backlog.
  void set_blocked(unsigned from, unsigned to) {
    blocked_[from * n_ + to].store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  bool take_blocked(unsigned from, unsigned to) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    auto& b = blocked_[from * n_ + to];
    return b.load(std::memory_order_relaxed) && b.exchange(false, std::memory_order_relaxed);
  }
  void wake(unsigned shard) { slots_[shard].loop->wake(); }

  ExactInterest& exact_interest() { return exact_interest_; }

  // Producer side, after pushing to `to`: wakes it only if it is about to sleep (one
  // wake-up per sleep however many producers push).
  void notify(unsigned to) {
    if (slots_[to].wake.should_wake()) slots_[to].loop->wake();
  }

 private:
  struct alignas(64) Slot {
    io::WakeFlag wake;
    io::Loop* loop = nullptr;
  };
  unsigned n_;
  std::vector<std::unique_ptr<io::SpscRing<ShardEnvelope>>> rings_;
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<std::atomic<bool>[]> blocked_;
  ExactInterest exact_interest_;
};

}  // namespace shardmq::broker
