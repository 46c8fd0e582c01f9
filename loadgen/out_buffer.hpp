// A connection's unsent bytes. Packets are encoded straight into it; the loop writes
// [head, tail) with one write() per loop iteration. It grows during warm-up only: once its
// capacity covers the scenario's window, appending never allocates.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <vector>

namespace shardmq::loadgen {

class OutBuffer {
 public:
  std::size_t pending() const { return tail_ - head_; }
  std::span<const std::byte> data() const { return {buf_.data() + head_, pending()}; }

  // Room for n more bytes at the tail; fill it, then commit() what was written.
  std::span<std::byte> reserve(std::size_t n) {
    if (buf_.size() - tail_ < n) make_room(n);
    return {buf_.data() + tail_, n};
  }
  void commit(std::size_t n) { tail_ += n; }
  void consume(std::size_t n) {
    head_ += n;
    if (head_ == tail_) head_ = tail_ = 0;
  }
  void reserve_capacity(std::size_t n) {
    if (buf_.size() < n) buf_.resize(n);
  }
  void clear() { head_ = tail_ = 0; }

 private:
  void make_room(std::size_t n) {
    if (head_ > 0) {
      std::memmove(buf_.data(), buf_.data() + head_, pending());
      tail_ -= head_;
      head_ = 0;
    }
    if (buf_.size() - tail_ < n) buf_.resize(std::max(buf_.size() * 2, tail_ + n));
  }

  std::vector<std::byte> buf_;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
};

}  // namespace shardmq::loadgen
