// ByteBlock: a growable byte buffer (malloc/realloc) that holds memory only while it holds
// bytes' worth of use: connections keep their partial input and queued output in these, and
// stream layers (TLS, WebSocket) append what they produce to them.
//
// The object itself is one pointer: size and capacity live at the head of the heap block,
// so an empty ByteBlock costs 8 bytes. A connection keeps three of these (partial input,
// bytes on the wire, bytes queued behind them); at a million idle connections the
// difference from three (pointer, size, capacity) triples is 48 MB.
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
  ByteBlock(ByteBlock&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  ByteBlock& operator=(ByteBlock&& o) noexcept {
    swap(o);
    return *this;
  }
  ~ByteBlock() { std::free(h_); }

  std::size_t size() const { return h_ ? h_->size : 0; }
  bool empty() const { return size() == 0; }
  std::byte* data() { return h_ ? bytes() : nullptr; }
  const std::byte* data() const { return h_ ? bytes() : nullptr; }
  std::size_t capacity() const { return h_ ? h_->cap : 0; }

  // Room for n more bytes; returns where to write them (commit with grow(n)).
  std::byte* reserve(std::size_t n) {
    if (n == 0 && !h_) return nullptr;  // nothing to write, nothing to allocate
    const std::size_t size = this->size();
    if (size + n > capacity()) {
      std::size_t cap = h_ ? h_->cap : kFirstCapacity;
      while (cap < size + n)
        cap *= 2;
      auto* h = static_cast<Header*>(std::realloc(h_, sizeof(Header) + cap));
      if (!h) std::abort();
      h->size = size;
      h->cap = cap;
      h_ = h;
    }
    return bytes() + size;
  }
  // Commits n bytes written after a reserve(n) (n == 0 is allowed on an empty block).
  void grow(std::size_t n) {
    if (h_) h_->size += n;
  }
  void append(const void* p, std::size_t n) {
    if (n == 0) return;
    std::memcpy(reserve(n), p, n);
    grow(n);
  }
  // Forgets the bytes, keeps the memory.
  void clear() {
    if (h_) h_->size = 0;
  }
  // Forgets the bytes and frees the memory.
  void release() {
    std::free(h_);
    h_ = nullptr;
  }
  void swap(ByteBlock& o) noexcept { std::swap(h_, o.h_); }

 private:
  struct Header {
    std::size_t size;
    std::size_t cap;
  };
  // 512 bytes with the header: a small packet or two without a realloc.
  static constexpr std::size_t kFirstCapacity = 512 - sizeof(Header);

  std::byte* bytes() const { return reinterpret_cast<std::byte*>(h_ + 1); }

  Header* h_ = nullptr;
};

}  // namespace shardmq::io
