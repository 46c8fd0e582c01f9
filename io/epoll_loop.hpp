// The portable backend of Loop: level-triggered epoll, non-blocking sockets, accept4, one
// shared receive buffer per loop (idle connections hold none), sendmsg for sends, an eventfd
// for wake() and a timerfd for the tick. SocketId is the socket's fd.
#pragma once

#include <memory>
#include <string>

#include "io/loop.hpp"

namespace shardmq::io {

// nullptr and *why when the epoll/eventfd/timerfd setup fails.
std::unique_ptr<Loop> make_epoll_loop(const LoopOptions& opts, std::string* why);

}  // namespace shardmq::io
