// "Wake the consumer only when it may be asleep": the consumer of one or more SpscRings
// publishes that it is about to block, and producers pay for a wake-up (an eventfd write
// through Loop::wake) only then.
//
// Consumer, before blocking:           Producer, after pushing:
//   flag.prepare_sleep();                ring.try_push(x);
//   if (!rings_empty()) flag.cancel_sleep();   if (flag.should_wake()) loop.wake();
//   else block();  then flag.cancel_sleep();
//
// Why seq_cst fences: this is a Dekker pattern. Each side stores its own variable (the
// producer the ring tail, the consumer `sleeping_`) and then loads the other's. With only
// acquire/release both loads may read stale values (store-load reordering), and the consumer
// sleeps on a non-empty ring while the producer skips the wake: a lost wake-up. A seq_cst
// fence between the store and the load on both sides guarantees at least one side sees the
// other's store: either the consumer's re-check finds the item or the producer sees the flag.
#pragma once

#include <atomic>

namespace shardmq::io {

class WakeFlag {
 public:
  // Consumer: announce an imminent sleep. The caller must re-check its rings afterwards.
  void prepare_sleep() {
    sleeping_.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  // Consumer: awake again (re-check found work, or it woke up).
  void cancel_sleep() { sleeping_.store(false, std::memory_order_relaxed); }

  // Producer, after its push is published: true when this producer must wake the
  // consumer. Clears the flag so a burst of producers issues one wake-up.
  bool should_wake() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return sleeping_.load(std::memory_order_relaxed) &&
           sleeping_.exchange(false, std::memory_order_acq_rel);
  }

  bool sleeping() const { return sleeping_.load(std::memory_order_relaxed); }

 private:
  alignas(64) std::atomic<bool> sleeping_{false};
};

}  // namespace shardmq::io
