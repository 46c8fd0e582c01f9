// RecvBufferRing: the receive buffers an io_uring loop lends the kernel (a provided-buffer
// ring, buffer group 0), so a multishot recv picks one as data arrives instead of each socket
// owning one.
//
// Sized to the load, not fixed per loop: room for `max_count` buffers is reserved (address
// space only) and the ring starts with `initial` of them. Whenever fewer than a quarter of
// the buffers made so far are with the kernel (busy sockets hold them, or a burst took them
// all and a socket met ENOBUFS), grow_if_low() doubles them, up to the maximum. The kernel
// takes buffers in ring order, so every buffer made is touched as traffic cycles through
// them: an idle or lightly loaded loop keeps `initial` buffers' worth of touched pages, 64
// loops of them about 8 MB with small messages, where 1,024 buffers each cost 256 MB.
// Buffers are never taken back: the high-water mark of a burst stays (the pages are
// reused, not freed).
//
// Owns: the ring's memory and the buffers' memory. Not thread-safe (the loop's thread).
#pragma once

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace shardmq::io {

class RecvBufferRing {
 public:
  RecvBufferRing() = default;
  ~RecvBufferRing();
  RecvBufferRing(const RecvBufferRing&) = delete;
  RecvBufferRing& operator=(const RecvBufferRing&) = delete;

  // Reserves room for max_count (rounded up to a power of two, at most 32,768) buffers of
  // `size` bytes, registers the ring with `ring` as group 0 and lends it the first `initial`.
  bool init(io_uring& ring, std::uint32_t max_count, std::uint32_t initial, std::uint32_t size,
            std::string* why);

  std::byte* data(std::uint16_t bid) const { return bufs_ + std::size_t(bid) * size_; }
  std::uint32_t buffer_size() const { return size_; }
  // The most buffers there can be, and those made so far (buffer ids are below it).
  std::uint32_t capacity() const { return capacity_; }
  std::uint32_t made() const { return made_; }
  std::uint32_t with_kernel() const { return with_kernel_; }

  // A completion carried buffer `bid`: it is the loop's until given back.
  void taken() { --with_kernel_; }
  void give_back(std::uint16_t bid);
  // Makes more buffers when the kernel is short of them (see above); true if it did.
  bool grow_if_low();

 private:
  void lend(std::uint32_t first, std::uint32_t count);

  io_uring_buf_ring* br_ = nullptr;
  std::size_t br_bytes_ = 0;
  std::byte* bufs_ = nullptr;
  std::size_t bufs_bytes_ = 0;
  std::uint32_t capacity_ = 0;
  std::uint32_t size_ = 0;
  std::uint32_t made_ = 0;
  std::uint32_t with_kernel_ = 0;
};

}  // namespace shardmq::io
