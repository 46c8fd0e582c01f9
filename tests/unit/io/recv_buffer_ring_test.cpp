// RecvBufferRing: starts small and doubles when the kernel is short of buffers, up to its
// capacity; buffers given back stay made. Uses a real io_uring (skipped where there is none).
#include <catch2/catch.hpp>

#include <liburing.h>

#include <set>
#include <string>

#include "io/recv_buffer_ring.hpp"

namespace shardmq::io {
namespace {

TEST_CASE("recv buffer ring: grows as the kernel runs short, never past its capacity",
          "[io][buffers]") {
  io_uring ring;
  if (io_uring_queue_init(8, &ring, 0) < 0) {
    WARN("no io_uring here: skipped");
    return;
  }
  {
    RecvBufferRing bufs;
    std::string why;
    if (!bufs.init(ring, 16, 2, 1024, &why)) {
      io_uring_queue_exit(&ring);
      WARN("skipped: " << why);
      return;
    }
    CHECK(bufs.capacity() == 16);
    CHECK(bufs.made() == 2);
    CHECK(bufs.with_kernel() == 2);
    CHECK_FALSE(bufs.grow_if_low());  // all with the kernel

    bufs.taken();  // one of two in a completion: half left, not low
    CHECK_FALSE(bufs.grow_if_low());
    bufs.taken();  // none left: double
    CHECK(bufs.grow_if_low());
    CHECK(bufs.made() == 4);
    CHECK(bufs.with_kernel() == 2);

    bufs.give_back(0);
    bufs.give_back(1);  // the two taken come back: nothing new is made
    CHECK_FALSE(bufs.grow_if_low());
    CHECK(bufs.made() == 4);
    CHECK(bufs.with_kernel() == 4);

    for (int i = 0; i < 4; ++i)
      bufs.taken();
    CHECK(bufs.grow_if_low());
    CHECK(bufs.made() == 8);
    CHECK(bufs.with_kernel() == 4);  // the 4 new ones
    for (int i = 0; i < 4; ++i)
      bufs.taken();
    CHECK(bufs.grow_if_low());
    CHECK(bufs.made() == 16);
    CHECK(bufs.with_kernel() == 8);
    for (int i = 0; i < 8; ++i)
      bufs.taken();
    CHECK_FALSE(bufs.grow_if_low());  // at capacity
    CHECK(bufs.made() == 16);

    // Every buffer has its own bytes.
    std::set<const std::byte*> seen;
    for (std::uint16_t b = 0; b < 16; ++b)
      seen.insert(bufs.data(b));
    CHECK(seen.size() == 16);
    CHECK(bufs.data(1) - bufs.data(0) == 1024);
  }
  io_uring_queue_exit(&ring);
}

}  // namespace
}  // namespace shardmq::io
