#include "io/recv_buffer_ring.hpp"

#include <sys/mman.h>

#include <cstring>

namespace shardmq::io {

RecvBufferRing::~RecvBufferRing() {
  if (br_) ::munmap(br_, br_bytes_);
  if (bufs_) ::munmap(bufs_, bufs_bytes_);
}

bool RecvBufferRing::init(io_uring& ring, std::uint32_t max_count, std::uint32_t initial,
                          std::uint32_t size, std::string* why) {
  std::uint32_t count = 1;
  while (count < max_count && count < 32768)
    count <<= 1;
  capacity_ = count;
  size_ = size;
  br_bytes_ = count * sizeof(io_uring_buf);
  void* ring_mem =
      ::mmap(nullptr, br_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  // Address space for all of them; pages are touched only as buffers are made and used.
  bufs_bytes_ = std::size_t(count) * size_;
  void* mem = ::mmap(nullptr, bufs_bytes_, PROT_READ | PROT_WRITE,
                     MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE, -1, 0);
  if (ring_mem == MAP_FAILED || mem == MAP_FAILED) {
    if (ring_mem != MAP_FAILED) ::munmap(ring_mem, br_bytes_);
    if (mem != MAP_FAILED) ::munmap(mem, bufs_bytes_);
    if (why) *why = "cannot map receive buffers";
    return false;
  }
  br_ = static_cast<io_uring_buf_ring*>(ring_mem);
  bufs_ = static_cast<std::byte*>(mem);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(ring_mem);
  reg.ring_entries = count;
  reg.bgid = 0;
  const int r = io_uring_register_buf_ring(&ring, &reg, 0);
  if (r < 0) {
    if (why) *why = std::string("provided-buffer ring unsupported: ") + std::strerror(-r);
    return false;
  }
  io_uring_buf_ring_init(br_);
  lend(0, initial < 1 ? 1 : (initial > count ? count : initial));
  return true;
}

void RecvBufferRing::lend(std::uint32_t first, std::uint32_t count) {
  const int mask = io_uring_buf_ring_mask(capacity_);
  for (std::uint32_t i = 0; i < count; ++i)
    io_uring_buf_ring_add(br_, data(static_cast<std::uint16_t>(first + i)), size_,
                          static_cast<unsigned short>(first + i), mask, static_cast<int>(i));
  io_uring_buf_ring_advance(br_, static_cast<int>(count));
  made_ = first + count;
  with_kernel_ += count;
}

void RecvBufferRing::give_back(std::uint16_t bid) {
  io_uring_buf_ring_add(br_, data(bid), size_, bid, io_uring_buf_ring_mask(capacity_), 0);
  io_uring_buf_ring_advance(br_, 1);
  ++with_kernel_;
}

bool RecvBufferRing::grow_if_low() {
  if (std::uint64_t(with_kernel_) * 4 >= made_ || made_ == capacity_) return false;
  const std::uint32_t more = made_ < capacity_ - made_ ? made_ : capacity_ - made_;
  lend(made_, more);
  return true;
}

}  // namespace shardmq::io
