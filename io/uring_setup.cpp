// Creating an io_uring loop: the ring and its fixed-file table, the receive buffers, the
// probe for multishot recv, the wake-up and tick descriptors; and tearing it down.
#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "io/uring_loop_state.hpp"

namespace shardmq::io::uring_detail {

bool UringLoop::setup_ring(std::string* why) {
  const unsigned depth = opts_.queue_depth ? opts_.queue_depth : 4096;
  // Newest flags first; older kernels reject unknown flags with EINVAL.
  const unsigned tries[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
      IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
      0,
  };
  int r = -EINVAL;
  io_uring_params p{};
  for (unsigned flags : tries) {
    p = io_uring_params{};
    p.flags = flags | IORING_SETUP_CQSIZE;
    p.cq_entries = depth * 4;
    r = io_uring_queue_init_params(depth, &ring_, &p);
    if (r != -EINVAL) break;
  }
  if (r < 0) {
    if (why) *why = std::string("io_uring_setup failed: ") + std::strerror(-r);
    return false;
  }
  ring_ok_ = true;
  if (!(p.features & IORING_FEAT_NODROP) || !(p.features & IORING_FEAT_FAST_POLL)) {
    if (why) *why = "io_uring lacks IORING_FEAT_NODROP/FAST_POLL (kernel too old)";
    return false;
  }
  skip_success_ = p.features & IORING_FEAT_CQE_SKIP;
  io_uring_register_ring_fd(&ring_);  // optional (5.18+): saves an fd lookup per enter
  r = io_uring_register_files_sparse(&ring_, capacity_);
  if (r < 0) {
    if (why) *why = std::string("sparse fixed-file table failed: ") + std::strerror(-r);
    return false;
  }
  return true;
}

bool UringLoop::setup_buffers(std::string* why) {
  const std::uint32_t most = opts_.recv_buffer_count ? opts_.recv_buffer_count : 1024;
  const std::uint32_t first = opts_.recv_buffers_initial ? opts_.recv_buffers_initial : 32;
  if (!bufs_.init(ring_, most, first, opts_.recv_buffer_size ? opts_.recv_buffer_size : 16 * 1024,
                  why))
    return false;
  held_next_.assign(bufs_.capacity(), kNoBuf);
  held_len_.assign(bufs_.capacity(), 0);
  return true;
}

// Multishot recv (6.0) cannot be detected with io_uring_get_probe (it is a flag, not an
// opcode), so try it on a socketpair: one byte in, expect a CQE with data, a provided
// buffer and IORING_CQE_F_MORE; then EOF ends it.
bool UringLoop::probe_multishot_recv(std::string* why) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    if (why) *why = "socketpair failed";
    return false;
  }
  io_uring_sqe* s = sqe();
  io_uring_prep_recv_multishot(s, sv[0], nullptr, 0, 0);
  s->flags |= IOSQE_BUFFER_SELECT;
  s->buf_group = 0;
  io_uring_sqe_set_data64(s, ud(Op::probe, 0, 0));
  [[maybe_unused]] ssize_t w = ::write(sv[1], "x", 1);
  bool ok = false;
  bool first = true;
  for (;;) {
    io_uring_cqe* c = nullptr;
    if (io_uring_submit_and_wait(&ring_, 1) < 0 || io_uring_peek_cqe(&ring_, &c) < 0 || !c) break;
    const unsigned flags = c->flags;
    const int res = c->res;
    io_uring_cqe_seen(&ring_, c);
    if (flags & IORING_CQE_F_BUFFER) {
      bufs_.taken();
      return_buffer(static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT));
    }
    if (first) {
      ok = res == 1 && (flags & IORING_CQE_F_MORE) && (flags & IORING_CQE_F_BUFFER);
      first = false;
      if (flags & IORING_CQE_F_MORE) ::close(sv[1]), sv[1] = -1;  // EOF ends it
    }
    if (!(flags & IORING_CQE_F_MORE)) break;
  }
  ::close(sv[0]);
  if (sv[1] >= 0) ::close(sv[1]);
  if (!ok && why) *why = "multishot recv with provided buffers unsupported (kernel < 6.0)";
  return ok;
}

bool UringLoop::init(std::string* why) {
  if (!setup_ring(why) || !setup_buffers(why) || !probe_multishot_recv(why)) return false;
  // Blocking descriptors on purpose: io_uring polls them; O_NONBLOCK would make the
  // read fail with EAGAIN instead of waiting.
  efd_ = ::eventfd(0, EFD_CLOEXEC);
  tfd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  if (efd_ < 0 || tfd_ < 0) {
    if (why) *why = std::string("eventfd/timerfd failed: ") + std::strerror(errno);
    return false;
  }
  slots_.reserve(capacity_ < 1024 ? capacity_ : 1024);
  return true;
}

UringLoop::~UringLoop() {
  if (ring_ok_) io_uring_queue_exit(&ring_);  // cancels everything, drops the file table
  for (Slot& s : slots_)
    if (s.req) requests_.destroy(s.req);
  for (auto& l : listeners_)
    if (l.fd >= 0) ::close(l.fd);
  if (efd_ >= 0) ::close(efd_);
  if (tfd_ >= 0) ::close(tfd_);
}

}  // namespace shardmq::io::uring_detail
