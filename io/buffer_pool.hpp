// Size-class pool for connection buffers (one per shard, single thread). Classes are powers
// of two from 256 B to 64 KiB, each a SlabAllocator; bigger requests go to the system
// allocator. A connection asks for what it needs now and trades up when it outgrows it,
// so idle connections hold small buffers or none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "io/slab.hpp"

namespace shardmq::io {

struct PooledBuffer {
  std::byte* data = nullptr;
  std::uint32_t capacity = 0;
  explicit operator bool() const { return data != nullptr; }
};

class BufferPool {
 public:
  static constexpr std::size_t kMinClass = 256;
  static constexpr std::size_t kMaxClass = 64 * 1024;
  static constexpr std::size_t kClasses = 9;  // 256, 512, ..., 64 KiB
  static constexpr std::size_t kPageBytes = 16 * 1024;

  BufferPool();

  // A buffer of at least `bytes` (capacity rounded up to its class).
  PooledBuffer acquire(std::size_t bytes);
  // Returns a buffer obtained from acquire() of this pool.
  void release(PooledBuffer b);

  // Buffers handed out and not yet returned, per class index and in total.
  std::size_t in_use(std::size_t cls) const { return classes_[cls].in_use(); }
  std::size_t in_use() const;
  std::size_t oversize_in_use() const { return oversize_; }

  static std::size_t class_index(std::size_t bytes);  // kClasses when oversize
  static std::size_t class_size(std::size_t cls) { return kMinClass << cls; }

 private:
  std::vector<SlabAllocator> classes_;
  std::size_t oversize_ = 0;
};

// ---- implementation ----

inline BufferPool::BufferPool() {
  classes_.reserve(kClasses);
  for (std::size_t c = 0; c < kClasses; ++c) {
    // Pages of 16 KiB for small classes, four buffers a page for the big ones: a shard's
    // pool keeps its pages, so with many shards the page is what an idle one holds per class.
    const std::size_t per = kPageBytes / class_size(c);
    classes_.emplace_back(class_size(c), 64, per < 4 ? 4 : per);
  }
}

inline std::size_t BufferPool::class_index(std::size_t bytes) {
  std::size_t c = 0;
  std::size_t s = kMinClass;
  while (s < bytes && c < kClasses) {
    s <<= 1;
    ++c;
  }
  return c;
}

inline PooledBuffer BufferPool::acquire(std::size_t bytes) {
  const std::size_t c = class_index(bytes);
  if (c >= kClasses) {
    ++oversize_;
    return {static_cast<std::byte*>(::operator new(bytes)), static_cast<std::uint32_t>(bytes)};
  }
  return {static_cast<std::byte*>(classes_[c].allocate()),
          static_cast<std::uint32_t>(class_size(c))};
}

inline void BufferPool::release(PooledBuffer b) {
  if (!b.data) return;
  const std::size_t c = class_index(b.capacity);
  if (c >= kClasses || class_size(c) != b.capacity) {
    --oversize_;
    ::operator delete(b.data);
    return;
  }
  classes_[c].deallocate(b.data);
}

inline std::size_t BufferPool::in_use() const {
  std::size_t n = oversize_;
  for (const auto& c : classes_)
    n += c.in_use();
  return n;
}

}  // namespace shardmq::io
