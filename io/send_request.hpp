// A send's scatter list copied out of the caller's iovec array (the buffers themselves stay
// the caller's). Both backends keep one per in-flight multi-buffer send, from a Slab, so the
// caller may pass a temporary iovec array. At most kMaxSendIov buffers are taken per send;
// the rest simply shows up as a partial write in on_sent.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>

namespace shardmq::io {

inline constexpr int kMaxSendIov = 16;

struct SendRequest {
  msghdr msg{};
  iovec iov[kMaxSendIov];

  void set(const iovec* v, int n) {
    if (n > kMaxSendIov) n = kMaxSendIov;
    if (n < 0) n = 0;
    for (int i = 0; i < n; ++i)
      iov[i] = v[i];
    msg = msghdr{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(n);
  }
};

}  // namespace shardmq::io
