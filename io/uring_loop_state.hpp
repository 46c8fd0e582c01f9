// The io_uring loop's state and its declaration, shared by the files that implement it
// (uring_loop.cpp: operations and the turn; uring_setup.cpp: creating the ring, probing the
// kernel, tearing down). Private to io/: the rest of the broker knows only make_uring_loop().
#pragma once

#include <liburing.h>
#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <vector>

#include "io/loop.hpp"
#include "io/recv_buffer_ring.hpp"
#include "io/send_request.hpp"
#include "io/slab.hpp"
#include "io/socket_limit.hpp"

namespace shardmq::io::uring_detail {

// user_data: operation in the top byte, the slot's generation in the next 24 bits (so a
// completion for a recycled slot is recognised and dropped), slot or listener index below.
enum class Op : std::uint8_t { ignore = 0, accept, recv, send, close_direct, wake, tick, probe };
constexpr std::uint64_t ud(Op op, std::uint32_t gen, std::uint32_t idx) {
  return (std::uint64_t(op) << 56) | (std::uint64_t(gen & 0xffffffu) << 32) | idx;
}

enum SlotFlag : std::uint16_t {
  kUsed = 1 << 0,
  kStarted = 1 << 1,
  kRecvArmed = 1 << 2,  // a multishot recv is in flight
  kSending = 1 << 3,    // a send is in flight
  kClosing = 1 << 4,    // close() called
  kClosed = 1 << 5,     // the direct descriptor is closed
  kPeerDone = 1 << 6,   // EOF or receive error seen: never re-arm
  kReported = 1 << 7,   // on_peer_closed delivered
  kPaused = 1 << 8,
  kStarved = 1 << 9,      // on starved_: re-arm when buffers come back
  kHeldQueued = 1 << 10,  // on held_ready_
  kEofHeld = 1 << 11,     // EOF/error waits behind held data
};

constexpr std::uint16_t kNoBuf = 0xffff;

struct Slot {
  void* ctx = nullptr;
  SendRequest* req = nullptr;  // multi-buffer send in flight
  std::uint32_t gen = 0;
  std::uint16_t flags = 0;
  // Buffers received while paused, in order (linked through held_next_).
  std::uint16_t held_head = kNoBuf;
  std::uint16_t held_tail = kNoBuf;
  std::int16_t held_err = 0;
};

struct Listener {
  int fd = -1;
  std::uint32_t tag = 0;
  bool armed = false;
  bool stopped = false;
  bool backoff = false;  // out of descriptors: re-armed when a socket closes or on tick
};

constexpr unsigned kReapBatch = 256;

class UringLoop final : public Loop {
 public:
  explicit UringLoop(const LoopOptions& opts)
      : opts_(opts), capacity_(socket_limit(opts.max_sockets)) {}
  ~UringLoop() override;
  bool init(std::string* why);

  Backend backend() const override { return Backend::uring; }
  int listen(const std::string& host, std::uint16_t port, std::uint32_t tag,
             const ListenerOptions& opts) override;
  void start(SocketId s, void* ctx) override;
  void pause_recv(SocketId s) override;
  void resume_recv(SocketId s) override;
  void send(SocketId s, const iovec* iov, int iovcnt) override;
  void close(SocketId s) override;
  void stop_listening() override;
  void set_tick_interval(unsigned ms) override;
  void wake() override;
  void run(LoopHandler& handler) override;
  void stop() override { running_ = false; }
  std::size_t socket_capacity() const override { return capacity_; }

 private:
  bool setup_ring(std::string* why);
  bool setup_buffers(std::string* why);
  bool probe_multishot_recv(std::string* why);

  Slot* slot(SocketId s) {
    if (s >= slots_.size() || !(slots_[s].flags & kUsed)) return nullptr;
    return &slots_[s];
  }
  io_uring_sqe* sqe();
  void cancel(std::uint64_t user_data);
  void arm_accept(std::uint32_t li);
  void arm_recv(SocketId s);
  void arm_wake();
  void arm_tick();
  std::byte* buffer(std::uint16_t bid) { return bufs_.data(bid); }
  void return_buffer(std::uint16_t bid) { bufs_.give_back(bid); }
  void hold(Slot& sl, std::uint16_t bid, std::uint32_t len);
  void drop_held(Slot& sl);

  void reap();
  void dispatch(const io_uring_cqe& c);
  void on_accept_cqe(std::uint32_t li, const io_uring_cqe& c);
  void install(std::uint32_t li, int fd);
  void on_recv_cqe(SocketId s, const io_uring_cqe& c);
  void on_send_cqe(SocketId s, int res);
  void report_peer_closed(SocketId s, int err);
  void maybe_finish(SocketId s);
  void deliver_held();
  void rearm_pending();
  void retry_listeners();

  LoopOptions opts_;
  std::uint32_t capacity_;
  io_uring ring_{};
  bool ring_ok_ = false;
  bool skip_success_ = false;
  LoopHandler* h_ = nullptr;
  bool running_ = false;

  std::vector<Slot> slots_;
  std::vector<SocketId> free_;
  std::uint32_t live_ = 0;
  std::vector<Listener> listeners_;
  bool listener_backoff_ = false;

  // Provided-buffer ring (group 0).
  RecvBufferRing bufs_;
  std::vector<std::uint16_t> held_next_;
  std::vector<std::uint32_t> held_len_;
  std::vector<SocketId> starved_, held_ready_, scratch_;

  int efd_ = -1, tfd_ = -1;
  std::uint64_t wake_buf_ = 0, tick_buf_ = 0;
  bool wake_armed_ = false, tick_armed_ = false;
  alignas(64) std::atomic<bool> wake_pending_{false};

  Slab<SendRequest> requests_{64};
  io_uring_cqe cqes_[kReapBatch];
};

}  // namespace shardmq::io::uring_detail
