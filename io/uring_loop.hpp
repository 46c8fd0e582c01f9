// The io_uring backend of Loop (liburing). One ring per loop, one io_uring_submit_and_wait
// per turn. Listeners use multishot accept; each accepted socket is installed as a direct
// descriptor in the loop's own sparse fixed-file table (its SocketId is the table index)
// and receives through multishot recv with buffers from a provided-buffer ring. Wake-ups
// and the tick are eventfd / timerfd reads kept in flight on the ring.
#pragma once

#include <memory>
#include <string>

#include "io/loop.hpp"

namespace shardmq::io {

// Creates the ring and checks, by trying them, the features this backend needs (kernel
// 6.0+: sparse file tables, provided-buffer rings, multishot accept and recv). nullptr and
// *why when any is missing.
std::unique_ptr<Loop> make_uring_loop(const LoopOptions& opts, std::string* why);

}  // namespace shardmq::io
