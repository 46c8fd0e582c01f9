// ByteBlock: a growable byte buffer (malloc/realloc) that holds memory only while it holds
// bytes' worth of use: connections keep their partial input and queued output in these, and
// stream layers (TLS, WebSocket) append what they produce to them.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace shardmq::io {

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

}  // namespace shardmq::io
