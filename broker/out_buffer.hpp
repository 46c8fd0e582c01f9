// A connection's outbound bytes: packets are appended to `pending` while `sending` is on
// the wire, so the kernel's view of the in-flight buffer never moves. Memory is held only
// while bytes are queued: an idle connection owns no buffer.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <utility>

namespace shardmq::broker {

class ByteBlock {
 public:
  ByteBlock() = default;
  ByteBlock(const ByteBlock&) = delete;
  ByteBlock& operator=(const ByteBlock&) = delete;
  ByteBlock(ByteBlock&& o) noexcept { swap(o); }
  ByteBlock& operator=(ByteBlock&& o) noexcept {
    swap(o);
    return *this;
  }
  ~ByteBlock() { std::free(data_); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }

  // Room for n more bytes; returns where to write them (commit with grow(n)).
  std::byte* reserve(std::size_t n) {
    if (size_ + n > cap_) {
      std::size_t cap = cap_ ? cap_ : 512;
      while (cap < size_ + n)
        cap *= 2;
      auto* p = static_cast<std::byte*>(std::realloc(data_, cap));
      if (!p) std::abort();
      data_ = p;
      cap_ = cap;
    }
    return data_ + size_;
  }
  void grow(std::size_t n) { size_ += n; }
  void append(const void* p, std::size_t n) {
    if (n == 0) return;
    std::memcpy(reserve(n), p, n);
    size_ += n;
  }
  void clear() { size_ = 0; }
  void release() {
    std::free(data_);
    data_ = nullptr;
    size_ = cap_ = 0;
  }
  std::size_t capacity() const { return cap_; }
  void swap(ByteBlock& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(cap_, o.cap_);
  }

 private:
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

class OutBuffer {
 public:
  // Bytes queued and not yet acknowledged by the kernel.
  std::size_t queued() const { return sending_.size() - sent_ + pending_.size(); }
  bool in_flight() const { return in_flight_; }
  bool has_pending() const { return !pending_.empty(); }

  ByteBlock& pending() { return pending_; }

  // Moves pending bytes onto the wire slot; returns the region to send, or empty when a
  // send is already in flight or nothing is queued.
  std::span<const std::byte> begin_send() {
    if (in_flight_) return {};
    if (sent_ == sending_.size()) {
      if (pending_.empty()) return {};
      sending_.clear();
      sending_.swap(pending_);
      sent_ = 0;
    }
    in_flight_ = true;
    return {sending_.data() + sent_, sending_.size() - sent_};
  }

  // The kernel took `n` bytes of the region begin_send gave.
  void complete_send(std::size_t n) {
    in_flight_ = false;
    sent_ += n;
    if (sent_ == sending_.size() && pending_.empty()) {
      // Idle again: give memory back unless the blocks are small enough to keep.
      if (sending_.capacity() > kKeep)
        sending_.release();
      else
        sending_.clear();
      sent_ = 0;
    }
  }

  void release_all() {
    sending_.release();
    pending_.release();
    sent_ = 0;
    in_flight_ = false;
  }

 private:
  static constexpr std::size_t kKeep = 0;  // idle connections hold nothing
  ByteBlock sending_;
  ByteBlock pending_;
  std::size_t sent_ = 0;
  bool in_flight_ = false;
};

}  // namespace shardmq::broker
