// Bounded lock-free single-producer / single-consumer ring: the only channel between two
// shards. Exactly one thread pushes and exactly one thread pops; capacity is a power of two
// fixed at construction. Head and tail live on separate cache lines and each side keeps a
// cached copy of the other side's index, so a push or pop touches the shared line of the
// other side only when its cached view says the ring looks full (producer) or empty
// (consumer).
//
// Pairing with a sleeping consumer: see io/wake_flag.hpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

namespace shardmq::io {

template <typename T>
class SpscRing {
 public:
  // `capacity` is rounded up to a power of two (at least 2).
  explicit SpscRing(std::size_t capacity);

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // Producer side.
  bool try_push(const T& v) { return emplace(v); }
  bool try_push(T&& v) { return emplace(std::move(v)); }
  // Pushes as many of items[0..n) as fit (in order, moved from); returns how many.
  std::size_t push(T* items, std::size_t n);

  // Consumer side.
  bool try_pop(T& out);
  // Pops up to `max` items into out[]; returns how many.
  std::size_t pop_batch(T* out, std::size_t max);
  // Calls fn(T&) on up to `max` items in place, then releases their slots at once.
  template <typename Fn>
  std::size_t drain(Fn&& fn, std::size_t max = SIZE_MAX);

  // Either side; exact only on the consumer side (the producer may be pushing).
  bool empty() const {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }
  std::size_t size_approx() const {
    return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire);
  }
  std::size_t capacity() const { return mask_ + 1; }

 private:
  static constexpr std::size_t kLine = 64;

  template <typename U>
  bool emplace(U&& v);

  // Read-only after construction.
  alignas(kLine) std::size_t mask_;
  std::unique_ptr<T[]> slots_;
  // Consumer-owned line: its index and its cached view of the producer's.
  alignas(kLine) std::atomic<std::size_t> head_{0};
  std::size_t cached_tail_ = 0;
  // Producer-owned line.
  alignas(kLine) std::atomic<std::size_t> tail_{0};
  std::size_t cached_head_ = 0;
};

// ---- implementation ----

template <typename T>
SpscRing<T>::SpscRing(std::size_t capacity) {
  std::size_t c = 2;
  while (c < capacity)
    c <<= 1;
  mask_ = c - 1;
  slots_ = std::make_unique<T[]>(c);
}

template <typename T>
template <typename U>
bool SpscRing<T>::emplace(U&& v) {
  const std::size_t t = tail_.load(std::memory_order_relaxed);
  if (t - cached_head_ > mask_) {
    cached_head_ = head_.load(std::memory_order_acquire);
    if (t - cached_head_ > mask_) return false;
  }
  slots_[t & mask_] = std::forward<U>(v);
  tail_.store(t + 1, std::memory_order_release);
  return true;
}

template <typename T>
std::size_t SpscRing<T>::push(T* items, std::size_t n) {
  const std::size_t t = tail_.load(std::memory_order_relaxed);
  std::size_t room = mask_ + 1 - (t - cached_head_);
  if (room < n) {
    cached_head_ = head_.load(std::memory_order_acquire);
    room = mask_ + 1 - (t - cached_head_);
  }
  const std::size_t k = n < room ? n : room;
  for (std::size_t i = 0; i < k; ++i)
    slots_[(t + i) & mask_] = std::move(items[i]);
  if (k) tail_.store(t + k, std::memory_order_release);
  return k;
}

template <typename T>
bool SpscRing<T>::try_pop(T& out) {
  const std::size_t h = head_.load(std::memory_order_relaxed);
  if (h == cached_tail_) {
    cached_tail_ = tail_.load(std::memory_order_acquire);
    if (h == cached_tail_) return false;
  }
  out = std::move(slots_[h & mask_]);
  head_.store(h + 1, std::memory_order_release);
  return true;
}

template <typename T>
std::size_t SpscRing<T>::pop_batch(T* out, std::size_t max) {
  std::size_t i = 0;
  drain([&](T& v) { out[i++] = std::move(v); }, max);
  return i;
}

template <typename T>
template <typename Fn>
std::size_t SpscRing<T>::drain(Fn&& fn, std::size_t max) {
  const std::size_t h = head_.load(std::memory_order_relaxed);
  if (cached_tail_ - h < max) cached_tail_ = tail_.load(std::memory_order_acquire);
  std::size_t avail = cached_tail_ - h;
  const std::size_t k = avail < max ? avail : max;
  for (std::size_t i = 0; i < k; ++i)
    fn(slots_[(h + i) & mask_]);
  if (k) head_.store(h + k, std::memory_order_release);
  return k;
}

}  // namespace shardmq::io
