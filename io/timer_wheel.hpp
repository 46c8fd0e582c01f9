// Hashed timing wheel for keepalive and similar deadlines, one per shard (single thread).
// Timers are intrusive nodes embedded in their owner (e.g. a connection), so schedule and
// cancel are O(1) pointer splices with no allocation. A node lives in slot
// (deadline mod slots); advance() visits only the slots for the ticks that passed and fires
// the nodes whose deadline has come (nodes a full turn or more away stay put).
//
// Intended use for keepalive: on every packet the broker only writes "last activity" into
// the connection. The timer is scheduled once for last_activity + limit; when it fires the
// owner re-checks last activity and either expires the connection or re-schedules for the
// new last_activity + limit. So the per-message cost is one store, never a wheel operation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace shardmq::io {

struct TimerNode {
  TimerNode* prev = nullptr;
  TimerNode* next = nullptr;
  std::uint64_t deadline = 0;  // in ticks

  bool scheduled() const { return next != nullptr; }
};

class TimerWheel {
 public:
  // `slots` is rounded up to a power of two; `now` is the current tick.
  explicit TimerWheel(std::size_t slots = 4096, std::uint64_t now = 0);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // (Re)schedules `n` for `deadline`; a deadline not after now() fires at the next advance.
  void schedule(TimerNode& n, std::uint64_t deadline);
  // Unschedules `n`; harmless when it is not scheduled.
  void cancel(TimerNode& n);

  // Moves time to `now` and calls fn(TimerNode&) once for each node whose deadline <= now,
  // unscheduled before the call, so fn may re-schedule it or cancel other nodes. Returns
  // how many fired.
  template <typename Fn>
  std::size_t advance(std::uint64_t now, Fn&& fn);

  std::uint64_t now() const { return now_; }
  std::size_t size() const { return size_; }

 private:
  static void link_tail(TimerNode& head, TimerNode& n) {
    n.prev = head.prev;
    n.next = &head;
    head.prev->next = &n;
    head.prev = &n;
  }
  static void unlink(TimerNode& n) {
    n.prev->next = n.next;
    n.next->prev = n.prev;
    n.prev = n.next = nullptr;
  }
  void collect(TimerNode& head, std::uint64_t now, TimerNode& out);

  std::size_t mask_;
  std::unique_ptr<TimerNode[]> heads_;  // circular list sentinels
  std::uint64_t now_;
  std::size_t size_ = 0;
};

// ---- implementation ----

inline TimerWheel::TimerWheel(std::size_t slots, std::uint64_t now) : now_(now) {
  std::size_t s = 1;
  while (s < slots)
    s <<= 1;
  mask_ = s - 1;
  heads_ = std::make_unique<TimerNode[]>(s);
  for (std::size_t i = 0; i < s; ++i)
    heads_[i].prev = heads_[i].next = &heads_[i];
}

inline void TimerWheel::schedule(TimerNode& n, std::uint64_t deadline) {
  if (n.scheduled())
    unlink(n);
  else
    ++size_;
  n.deadline = deadline;
  const std::uint64_t at = deadline > now_ ? deadline : now_ + 1;
  link_tail(heads_[at & mask_], n);
}

inline void TimerWheel::cancel(TimerNode& n) {
  if (!n.scheduled()) return;
  unlink(n);
  --size_;
}

inline void TimerWheel::collect(TimerNode& head, std::uint64_t now, TimerNode& out) {
  for (TimerNode* n = head.next; n != &head;) {
    TimerNode* next = n->next;
    if (n->deadline <= now) {
      unlink(*n);
      link_tail(out, *n);
    }
    n = next;
  }
}

template <typename Fn>
std::size_t TimerWheel::advance(std::uint64_t now, Fn&& fn) {
  if (now <= now_) return 0;
  TimerNode expired;
  expired.prev = expired.next = &expired;
  if (now - now_ > mask_) {
    for (std::size_t i = 0; i <= mask_; ++i)
      collect(heads_[i], now, expired);
  } else {
    for (std::uint64_t t = now_ + 1; t <= now; ++t)
      collect(heads_[t & mask_], now, expired);
  }
  now_ = now;
  std::size_t fired = 0;
  while (expired.next != &expired) {
    TimerNode& n = *expired.next;
    unlink(n);
    --size_;
    ++fired;
    fn(n);
  }
  return fired;
}

}  // namespace shardmq::io
