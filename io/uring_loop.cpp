#include "io/uring_loop.hpp"

#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "io/listen_socket.hpp"
#include "io/uring_loop_state.hpp"

namespace shardmq::io {
namespace uring_detail {

// ---- submission helpers ----

io_uring_sqe* UringLoop::sqe() {
  io_uring_sqe* s = io_uring_get_sqe(&ring_);
  if (!s) {
    // SQ full within one turn: push what we have to the kernel early.
    io_uring_submit(&ring_);
    s = io_uring_get_sqe(&ring_);
  }
  if (!s) {
    std::fprintf(stderr, "shardmq: io_uring submission queue stuck full\n");
    std::abort();
  }
  return s;
}

void UringLoop::cancel(std::uint64_t user_data) {
  io_uring_sqe* s = sqe();
  io_uring_prep_cancel64(s, user_data, 0);
  io_uring_sqe_set_data64(s, ud(Op::ignore, 0, 0));
  if (skip_success_) s->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

void UringLoop::arm_accept(std::uint32_t li) {
  Listener& l = listeners_[li];
  io_uring_sqe* s = sqe();
  io_uring_prep_multishot_accept(s, l.fd, nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(s, ud(Op::accept, 0, li));
  l.armed = true;
}

void UringLoop::arm_recv(SocketId id) {
  Slot& sl = slots_[id];
  io_uring_sqe* s = sqe();
  io_uring_prep_recv_multishot(s, static_cast<int>(id), nullptr, 0, 0);
  s->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
  s->buf_group = 0;
  io_uring_sqe_set_data64(s, ud(Op::recv, sl.gen, id));
  sl.flags |= kRecvArmed;
}

void UringLoop::arm_wake() {
  io_uring_sqe* s = sqe();
  io_uring_prep_read(s, efd_, &wake_buf_, sizeof(wake_buf_), 0);
  io_uring_sqe_set_data64(s, ud(Op::wake, 0, 0));
  wake_armed_ = true;
}

void UringLoop::arm_tick() {
  io_uring_sqe* s = sqe();
  io_uring_prep_read(s, tfd_, &tick_buf_, sizeof(tick_buf_), 0);
  io_uring_sqe_set_data64(s, ud(Op::tick, 0, 0));
  tick_armed_ = true;
}

void UringLoop::hold(Slot& sl, std::uint16_t bid, std::uint32_t len) {
  held_next_[bid] = kNoBuf;
  held_len_[bid] = len;
  if (sl.held_tail == kNoBuf)
    sl.held_head = bid;
  else
    held_next_[sl.held_tail] = bid;
  sl.held_tail = bid;
}

void UringLoop::drop_held(Slot& sl) {
  while (sl.held_head != kNoBuf) {
    const std::uint16_t bid = sl.held_head;
    sl.held_head = held_next_[bid];
    return_buffer(bid);
  }
  sl.held_tail = kNoBuf;
  sl.flags &= ~kEofHeld;
}

// ---- public operations ----

int UringLoop::listen(const std::string& host, std::uint16_t port, std::uint32_t tag,
                      const ListenerOptions& opts) {
  const int fd = open_listen_socket(host, port, opts, /*nonblocking=*/false);
  if (fd < 0) return fd;
  const int bound = bound_port(fd);
  if (bound < 0) {
    ::close(fd);
    return bound;
  }
  listeners_.push_back(Listener{fd, tag, false, false, false});
  arm_accept(static_cast<std::uint32_t>(listeners_.size() - 1));
  return bound;
}

void UringLoop::start(SocketId id, void* ctx) {
  Slot* sl = slot(id);
  if (!sl || (sl->flags & (kStarted | kClosing))) return;
  sl->ctx = ctx;
  sl->flags |= kStarted;
  arm_recv(id);
}

void UringLoop::pause_recv(SocketId id) {
  Slot* sl = slot(id);
  if (!sl || (sl->flags & (kPaused | kClosing)) || !(sl->flags & kStarted)) return;
  sl->flags |= kPaused;
  // Data the kernel already placed in buffers before the cancel lands is held, in order,
  // until resume_recv.
  if (sl->flags & kRecvArmed) cancel(ud(Op::recv, sl->gen, id));
}

void UringLoop::resume_recv(SocketId id) {
  Slot* sl = slot(id);
  if (!sl || !(sl->flags & kPaused)) return;
  sl->flags &= ~kPaused;
  if ((sl->held_head != kNoBuf || (sl->flags & kEofHeld)) && !(sl->flags & kHeldQueued)) {
    sl->flags |= kHeldQueued;
    held_ready_.push_back(id);
  }
  if (!(sl->flags & (kRecvArmed | kPeerDone | kClosing | kStarved))) arm_recv(id);
}

void UringLoop::send(SocketId id, const iovec* iov, int iovcnt) {
  Slot* sl = slot(id);
  if (!sl || (sl->flags & (kClosing | kSending))) return;
  io_uring_sqe* s = sqe();
  if (iovcnt <= 1) {
    io_uring_prep_send(s, static_cast<int>(id), iovcnt == 1 ? iov[0].iov_base : nullptr,
                       iovcnt == 1 ? iov[0].iov_len : 0, MSG_NOSIGNAL);
  } else {
    sl->req = requests_.create();
    sl->req->set(iov, iovcnt);
    io_uring_prep_sendmsg(s, static_cast<int>(id), &sl->req->msg, MSG_NOSIGNAL);
  }
  s->flags |= IOSQE_FIXED_FILE;
  io_uring_sqe_set_data64(s, ud(Op::send, sl->gen, id));
  sl->flags |= kSending;
}

void UringLoop::close(SocketId id) {
  Slot* sl = slot(id);
  if (!sl || (sl->flags & kClosing)) return;
  sl->flags |= kClosing;
  if (sl->flags & kRecvArmed) cancel(ud(Op::recv, sl->gen, id));
  if (sl->flags & kSending) cancel(ud(Op::send, sl->gen, id));
  drop_held(*sl);
  io_uring_sqe* s = sqe();
  io_uring_prep_close_direct(s, id);
  io_uring_sqe_set_data64(s, ud(Op::close_direct, sl->gen, id));
}

void UringLoop::stop_listening() {
  for (std::uint32_t i = 0; i < listeners_.size(); ++i) {
    Listener& l = listeners_[i];
    if (l.stopped) continue;
    l.stopped = true;
    if (l.armed) {
      cancel(ud(Op::accept, 0, i));  // the fd is closed when the accept's last CQE arrives
    } else if (l.fd >= 0) {
      ::close(l.fd);
      l.fd = -1;
    }
  }
}

void UringLoop::set_tick_interval(unsigned ms) {
  itimerspec its{};
  its.it_interval.tv_sec = ms / 1000;
  its.it_interval.tv_nsec = static_cast<long>(ms % 1000) * 1000000L;
  its.it_value = its.it_interval;
  ::timerfd_settime(tfd_, 0, &its, nullptr);
}

void UringLoop::wake() {
  if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;  // one write per burst
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(efd_, &one, sizeof(one));
}

// ---- the turn ----

void UringLoop::run(LoopHandler& handler) {
  h_ = &handler;
  running_ = true;
  if (!wake_armed_) arm_wake();
  if (!tick_armed_) arm_tick();
  while (running_) {
    handler.on_turn_end();
    if (!running_) break;
    rearm_pending();
    // Held data made deliverable during this turn must not wait for a completion.
    const int r = io_uring_submit_and_wait(&ring_, held_ready_.empty() ? 1 : 0);
    if (r < 0 && r != -EINTR && r != -EBUSY && r != -EAGAIN && r != -ETIME) {
      std::fprintf(stderr, "shardmq: io_uring_submit_and_wait: %s\n", std::strerror(-r));
      std::abort();
    }
    // -EBUSY/-EAGAIN: the CQ (or its overflow list) is full; reaping makes room and the
    // unsubmitted SQEs go with the next turn's submit.
    reap();
    deliver_held();
  }
  io_uring_submit(&ring_);  // what the last callbacks queued (closes, sends)
}

void UringLoop::reap() {
  io_uring_cqe* ptrs[kReapBatch];
  for (;;) {
    const unsigned n = io_uring_peek_batch_cqe(&ring_, ptrs, kReapBatch);
    if (n == 0) return;
    // Copy out and free the CQ slots before any callback can submit more work.
    for (unsigned i = 0; i < n; ++i)
      cqes_[i] = *ptrs[i];
    io_uring_cq_advance(&ring_, n);
    for (unsigned i = 0; i < n; ++i)
      dispatch(cqes_[i]);
    if (n < kReapBatch) return;
  }
}

void UringLoop::dispatch(const io_uring_cqe& c) {
  const std::uint64_t u = c.user_data;
  const auto op = static_cast<Op>(u >> 56);
  const auto gen = static_cast<std::uint32_t>(u >> 32) & 0xffffffu;
  const auto idx = static_cast<std::uint32_t>(u);
  const bool current =
      idx < slots_.size() && (slots_[idx].flags & kUsed) && (slots_[idx].gen & 0xffffffu) == gen;
  switch (op) {
    case Op::accept:
      on_accept_cqe(idx, c);
      break;
    case Op::recv:
      if (current) {
        on_recv_cqe(idx, c);
      } else if (c.flags & IORING_CQE_F_BUFFER) {
        bufs_.taken();
        return_buffer(static_cast<std::uint16_t>(c.flags >> IORING_CQE_BUFFER_SHIFT));
      }
      break;
    case Op::send:
      if (current) on_send_cqe(idx, c.res);
      break;
    case Op::close_direct:
      if (current) {
        slots_[idx].flags |= kClosed;
        maybe_finish(idx);
      }
      break;
    case Op::wake:
      // The kernel already drained the eventfd; clearing the flag only now is what makes
      // the coalescing safe (see the epoll backend for the argument).
      wake_armed_ = false;
      wake_pending_.exchange(false, std::memory_order_acq_rel);
      arm_wake();
      h_->on_wake();
      break;
    case Op::tick:
      tick_armed_ = false;
      arm_tick();
      if (c.res == sizeof(tick_buf_)) {
        retry_listeners();
        h_->on_tick();
      }
      break;
    case Op::ignore:
    case Op::probe:
      break;
  }
}

void UringLoop::on_accept_cqe(std::uint32_t li, const io_uring_cqe& c) {
  if (li >= listeners_.size()) return;
  if (!(c.flags & IORING_CQE_F_MORE)) listeners_[li].armed = false;
  if (c.res >= 0) {
    install(li, c.res);
  } else if (c.res == -EMFILE || c.res == -ENFILE || c.res == -ENOBUFS || c.res == -ENOMEM) {
    listeners_[li].backoff = true;
    listener_backoff_ = true;
  }
  Listener& l = listeners_[li];
  if (l.armed) return;
  if (l.stopped) {
    if (l.fd >= 0) ::close(l.fd);
    l.fd = -1;
  } else if (!l.backoff) {
    arm_accept(li);
  }
}

// Accepted into a normal fd, so getpeername can tell the peer; then moved into the loop's
// fixed-file table at a slot we choose, and the process-table fd is closed (asynchronously,
// in this turn's batch). See docs/io.md for why not accept straight into direct descriptors.
void UringLoop::install(std::uint32_t li, int fd) {
  const Listener& l = listeners_[li];
  SocketId id = kInvalidSocket;
  if (!l.stopped) {
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
    } else if (slots_.size() < capacity_) {
      id = static_cast<SocketId>(slots_.size());
      slots_.emplace_back();
    }
  }
  if (id == kInvalidSocket) {
    ::close(fd);
    return;
  }
  PeerAddress peer;
  peer.len = sizeof(peer.addr);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer.addr), &peer.len) < 0) {
    peer.addr.ss_family = AF_UNSPEC;
    peer.len = 0;
  }
  const int r = io_uring_register_files_update(&ring_, id, &fd, 1);
  io_uring_sqe* s = sqe();
  io_uring_prep_close(s, fd);
  io_uring_sqe_set_data64(s, ud(Op::ignore, 0, 0));
  if (skip_success_) s->flags |= IOSQE_CQE_SKIP_SUCCESS;
  if (r != 1) {
    free_.push_back(id);
    return;
  }
  Slot& sl = slots_[id];
  sl.flags = kUsed;
  sl.ctx = nullptr;
  ++live_;
  h_->on_accept(l.tag, id, peer);
}

void UringLoop::on_recv_cqe(SocketId id, const io_uring_cqe& c) {
  Slot* sl = &slots_[id];
  if (!(c.flags & IORING_CQE_F_MORE)) sl->flags &= ~kRecvArmed;
  if (c.flags & IORING_CQE_F_BUFFER) bufs_.taken();
  if (c.res > 0) {
    const auto bid = static_cast<std::uint16_t>(c.flags >> IORING_CQE_BUFFER_SHIFT);
    if (sl->flags & kClosing) {
      return_buffer(bid);
    } else if ((sl->flags & kPaused) || sl->held_head != kNoBuf) {
      hold(*sl, bid, static_cast<std::uint32_t>(c.res));
    } else {
      h_->on_data(sl->ctx,
                  std::span<const std::byte>(buffer(bid), static_cast<std::size_t>(c.res)));
      return_buffer(bid);  // after on_data returns: the data was only lent
      sl = &slots_[id];
    }
  } else if (c.res == -ENOBUFS) {
    if (!(sl->flags & (kClosing | kStarved))) {
      sl->flags |= kStarved;
      starved_.push_back(id);
    }
  } else if (c.res != -ECANCELED) {
    // EOF (0) or a receive error: ordered after data still held for a paused socket.
    sl->flags |= kPeerDone;
    const int err = c.res == 0 ? 0 : -c.res;
    if (sl->held_head != kNoBuf) {
      sl->flags |= kEofHeld;
      sl->held_err = static_cast<std::int16_t>(err);
    } else {
      report_peer_closed(id, err);
      sl = &slots_[id];
    }
  }
  if (sl->flags & kRecvArmed) return;
  if (sl->flags & kClosing)
    maybe_finish(id);
  else if (!(sl->flags & (kPaused | kPeerDone | kStarved)))
    arm_recv(id);  // the multishot ended (e.g. CQ overflow): keep receiving
}

void UringLoop::on_send_cqe(SocketId id, int res) {
  Slot& sl = slots_[id];
  sl.flags &= ~kSending;
  if (sl.req) {
    requests_.destroy(sl.req);
    sl.req = nullptr;
  }
  if (sl.flags & kClosing) {
    maybe_finish(id);
  } else if (res >= 0) {
    h_->on_sent(sl.ctx, static_cast<std::size_t>(res));
  } else {
    report_peer_closed(id, -res);
  }
}

void UringLoop::report_peer_closed(SocketId id, int err) {
  Slot& sl = slots_[id];
  if (sl.flags & (kReported | kClosing)) return;
  sl.flags |= kReported;
  h_->on_peer_closed(sl.ctx, err);
}

void UringLoop::maybe_finish(SocketId id) {
  Slot& sl = slots_[id];
  if (!(sl.flags & kClosing) || !(sl.flags & kClosed) || (sl.flags & (kRecvArmed | kSending)))
    return;
  const bool started = sl.flags & kStarted;
  void* ctx = sl.ctx;
  sl.flags = 0;
  sl.ctx = nullptr;
  sl.held_head = sl.held_tail = kNoBuf;
  ++sl.gen;
  free_.push_back(id);
  --live_;
  retry_listeners();
  if (started) h_->on_closed(ctx);
}

void UringLoop::deliver_held() {
  while (!held_ready_.empty() && running_) {
    scratch_.swap(held_ready_);
    for (SocketId id : scratch_) {
      Slot* sl = &slots_[id];
      if (!(sl->flags & kHeldQueued)) continue;
      sl->flags &= ~kHeldQueued;
      while (sl->held_head != kNoBuf && !(sl->flags & (kPaused | kClosing))) {
        const std::uint16_t bid = sl->held_head;
        sl->held_head = held_next_[bid];
        if (sl->held_head == kNoBuf) sl->held_tail = kNoBuf;
        h_->on_data(sl->ctx, std::span<const std::byte>(buffer(bid), held_len_[bid]));
        return_buffer(bid);
        sl = &slots_[id];
      }
      if (sl->held_head == kNoBuf && (sl->flags & kEofHeld) &&
          !(sl->flags & (kPaused | kClosing))) {
        sl->flags &= ~kEofHeld;
        report_peer_closed(id, sl->held_err);
      }
    }
    scratch_.clear();
  }
}

void UringLoop::rearm_pending() {
  bufs_.grow_if_low();
  if (starved_.empty() || bufs_.with_kernel() == 0) return;
  scratch_.swap(starved_);
  for (SocketId id : scratch_) {
    Slot& sl = slots_[id];
    if (!(sl.flags & kStarved)) continue;
    sl.flags &= ~kStarved;
    if (!(sl.flags & (kClosing | kPaused | kPeerDone | kRecvArmed))) arm_recv(id);
  }
  scratch_.clear();
}

void UringLoop::retry_listeners() {
  if (!listener_backoff_) return;
  listener_backoff_ = false;
  for (std::uint32_t i = 0; i < listeners_.size(); ++i) {
    Listener& l = listeners_[i];
    if (!l.backoff) continue;
    l.backoff = false;
    if (!l.stopped && !l.armed) arm_accept(i);
  }
}

}  // namespace uring_detail

std::unique_ptr<Loop> make_uring_loop(const LoopOptions& opts, std::string* why) {
  auto loop = std::make_unique<uring_detail::UringLoop>(opts);
  if (!loop->init(why)) return nullptr;
  return loop;
}

}  // namespace shardmq::io
