#include "io/epoll_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include "io/listen_socket.hpp"
#include "io/send_request.hpp"
#include "io/slab.hpp"
#include "io/socket_limit.hpp"

namespace shardmq::io {
namespace {

// epoll_event.data.u64: kind in the top 2 bits, a generation in bits 32..61, index below.
enum Kind : std::uint64_t { kSocket = 0, kListener = 1, kWake = 2, kTick = 3 };
constexpr std::uint64_t tag(Kind k, std::uint32_t gen, std::uint32_t idx) {
  return (std::uint64_t(k) << 62) | (std::uint64_t(gen & 0x3fffffffu) << 32) | idx;
}

enum ConnFlag : std::uint16_t {
  kUsed = 1 << 0,
  kStarted = 1 << 1,
  kClosing = 1 << 2,
  kPaused = 1 << 3,
  kPeerDone = 1 << 4,  // EOF or error read: stop reading
  kReported = 1 << 5,  // on_peer_closed delivered
  kBlocked = 1 << 6,   // send waits for EPOLLOUT
};

struct Conn {
  void* ctx = nullptr;
  SendRequest* req = nullptr;  // the send in flight
  std::uint32_t gen = 0;
  std::uint32_t mask = 0;  // events registered with epoll (0: not registered)
  std::uint16_t flags = 0;
};

struct Listener {
  int fd = -1;
  std::uint32_t tag = 0;
  bool stopped = false;
  bool registered = false;
};

struct Completion {
  SocketId id;
  std::uint32_t gen;
  long res;  // bytes, or -errno
};

class EpollLoop final : public Loop {
 public:
  EpollLoop(const LoopOptions& opts) : capacity_(socket_limit(opts.max_sockets)) {
    rbuf_.resize(opts.recv_buffer_size ? opts.recv_buffer_size : 16 * 1024);
    events_.resize(256);
  }
  ~EpollLoop() override;
  bool init(std::string* why);

  Backend backend() const override { return Backend::epoll; }
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
  Conn* conn(SocketId s) {
    if (s >= conns_.size() || !(conns_[s].flags & kUsed)) return nullptr;
    return &conns_[s];
  }
  void update_interest(SocketId s, Conn& c);
  void set_listener_registered(std::size_t i, bool on);
  void on_listener(std::size_t i);
  void on_socket(SocketId s, std::uint32_t ev);
  void read_once(SocketId s, Conn& c);
  void try_write(SocketId s, Conn& c);
  void report_peer_closed(SocketId s, int err);
  void flush_sends();
  void deliver_completions();
  void finish_closes();
  void retry_listeners();

  std::uint32_t capacity_;
  std::uint32_t live_ = 0;
  int ep_ = -1, efd_ = -1, tfd_ = -1;
  bool running_ = false;
  bool listener_backoff_ = false;
  LoopHandler* h_ = nullptr;
  alignas(64) std::atomic<bool> wake_pending_{false};
  std::vector<std::byte> rbuf_;
  std::vector<epoll_event> events_;
  std::vector<Conn> conns_;
  std::vector<Listener> listeners_;
  std::vector<SocketId> pending_sends_;
  std::vector<Completion> completions_, completions_scratch_;
  std::vector<SocketId> closing_, closing_scratch_;
  Slab<SendRequest> requests_{64};
};

bool EpollLoop::init(std::string* why) {
  ep_ = ::epoll_create1(EPOLL_CLOEXEC);
  efd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  tfd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (ep_ < 0 || efd_ < 0 || tfd_ < 0) {
    if (why) *why = std::string("epoll setup failed: ") + std::strerror(errno);
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag(kWake, 0, 0);
  if (::epoll_ctl(ep_, EPOLL_CTL_ADD, efd_, &ev) < 0) return false;
  ev.data.u64 = tag(kTick, 0, 0);
  if (::epoll_ctl(ep_, EPOLL_CTL_ADD, tfd_, &ev) < 0) return false;
  return true;
}

EpollLoop::~EpollLoop() {
  for (std::size_t fd = 0; fd < conns_.size(); ++fd) {
    Conn& c = conns_[fd];
    if (!(c.flags & kUsed)) continue;
    if (c.req) requests_.destroy(c.req);
    ::close(static_cast<int>(fd));
  }
  for (auto& l : listeners_)
    if (l.fd >= 0) ::close(l.fd);
  for (int fd : {ep_, efd_, tfd_})
    if (fd >= 0) ::close(fd);
}

int EpollLoop::listen(const std::string& host, std::uint16_t port, std::uint32_t ltag,
                      const ListenerOptions& opts) {
  const int fd = open_listen_socket(host, port, opts, /*nonblocking=*/true);
  if (fd < 0) return fd;
  const int bound = bound_port(fd);
  if (bound < 0) {
    ::close(fd);
    return bound;
  }
  listeners_.push_back(Listener{fd, ltag, false, false});
  set_listener_registered(listeners_.size() - 1, true);
  return bound;
}

void EpollLoop::set_listener_registered(std::size_t i, bool on) {
  Listener& l = listeners_[i];
  if (l.registered == on || l.fd < 0) return;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag(kListener, 0, static_cast<std::uint32_t>(i));
  if (::epoll_ctl(ep_, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, l.fd, &ev) == 0) l.registered = on;
}

void EpollLoop::stop_listening() {
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    Listener& l = listeners_[i];
    if (l.stopped) continue;
    set_listener_registered(i, false);
    l.stopped = true;
    ::close(l.fd);
    l.fd = -1;
  }
}

void EpollLoop::retry_listeners() {
  if (!listener_backoff_) return;
  listener_backoff_ = false;
  for (std::size_t i = 0; i < listeners_.size(); ++i)
    if (!listeners_[i].stopped) set_listener_registered(i, true);
}

void EpollLoop::on_listener(std::size_t i) {
  // Level-triggered: a bounded batch per turn, the rest is reported again.
  for (int k = 0; k < 64 && running_; ++k) {
    Listener& l = listeners_[i];
    if (l.stopped) return;
    PeerAddress peer;
    peer.len = sizeof(peer.addr);
    const int fd = ::accept4(l.fd, reinterpret_cast<sockaddr*>(&peer.addr), &peer.len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: stop polling this listener until a socket closes or a tick.
        set_listener_registered(i, false);
        listener_backoff_ = true;
      }
      return;
    }
    if (live_ >= capacity_) {
      ::close(fd);
      continue;
    }
    if (static_cast<std::size_t>(fd) >= conns_.size()) conns_.resize(fd + fd / 2 + 64);
    Conn& c = conns_[fd];
    c.flags = kUsed;
    c.ctx = nullptr;
    c.req = nullptr;
    c.mask = 0;
    ++live_;
    h_->on_accept(l.tag, static_cast<SocketId>(fd), peer);
  }
}

void EpollLoop::update_interest(SocketId s, Conn& c) {
  std::uint32_t want = 0;
  if ((c.flags & kStarted) && !(c.flags & (kPaused | kPeerDone | kClosing)))
    want |= EPOLLIN | EPOLLRDHUP;
  if ((c.flags & kBlocked) && !(c.flags & kClosing)) want |= EPOLLOUT;
  if (want == c.mask) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = tag(kSocket, c.gen, s);
  const int op = want == 0 ? EPOLL_CTL_DEL : c.mask == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (::epoll_ctl(ep_, op, static_cast<int>(s), &ev) == 0 || op == EPOLL_CTL_DEL) c.mask = want;
}

void EpollLoop::start(SocketId s, void* ctx) {
  Conn* c = conn(s);
  if (!c || (c->flags & (kStarted | kClosing))) return;
  c->ctx = ctx;
  c->flags |= kStarted;
  update_interest(s, *c);
}

void EpollLoop::pause_recv(SocketId s) {
  Conn* c = conn(s);
  if (!c || (c->flags & kPaused)) return;
  c->flags |= kPaused;
  update_interest(s, *c);
}

void EpollLoop::resume_recv(SocketId s) {
  Conn* c = conn(s);
  if (!c || !(c->flags & kPaused)) return;
  c->flags &= ~kPaused;
  update_interest(s, *c);
}

void EpollLoop::send(SocketId s, const iovec* iov, int iovcnt) {
  Conn* c = conn(s);
  if (!c || (c->flags & kClosing) || c->req) return;
  c->req = requests_.create();
  c->req->set(iov, iovcnt);
  pending_sends_.push_back(s);
}

void EpollLoop::try_write(SocketId s, Conn& c) {
  for (;;) {
    const ssize_t n = ::sendmsg(static_cast<int>(s), &c.req->msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.flags |= kBlocked;
      update_interest(s, c);
      return;
    }
    requests_.destroy(c.req);
    c.req = nullptr;
    c.flags &= ~kBlocked;
    update_interest(s, c);
    completions_.push_back(Completion{s, c.gen, n >= 0 ? static_cast<long>(n) : -errno});
    return;
  }
}

void EpollLoop::flush_sends() {
  for (SocketId s : pending_sends_) {
    Conn* c = conn(s);
    if (c && c->req && !(c->flags & (kClosing | kBlocked))) try_write(s, *c);
  }
  pending_sends_.clear();
}

void EpollLoop::report_peer_closed(SocketId s, int err) {
  Conn* c = conn(s);
  if (!c || (c->flags & (kReported | kClosing))) return;
  c->flags |= kReported;
  h_->on_peer_closed(c->ctx, err);
}

void EpollLoop::deliver_completions() {
  completions_scratch_.swap(completions_);
  for (const Completion& d : completions_scratch_) {
    Conn* c = conn(d.id);
    if (!c || c->gen != d.gen || (c->flags & kClosing)) continue;
    if (d.res >= 0)
      h_->on_sent(c->ctx, static_cast<std::size_t>(d.res));
    else
      report_peer_closed(d.id, static_cast<int>(-d.res));
  }
  completions_scratch_.clear();
}

void EpollLoop::read_once(SocketId s, Conn& c) {
  const ssize_t n = ::recv(static_cast<int>(s), rbuf_.data(), rbuf_.size(), MSG_DONTWAIT);
  if (n > 0) {
    h_->on_data(c.ctx, std::span<const std::byte>(rbuf_.data(), static_cast<std::size_t>(n)));
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  const int err = n == 0 ? 0 : errno;
  c.flags |= kPeerDone;
  update_interest(s, c);
  report_peer_closed(s, err);
}

void EpollLoop::on_socket(SocketId s, std::uint32_t ev) {
  Conn* c = conn(s);
  if (!c || (c->flags & kClosing)) return;
  if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && !(c->flags & (kPaused | kPeerDone))) {
    read_once(s, *c);
    c = conn(s);  // the handler may have closed it
    if (!c || (c->flags & kClosing)) return;
  }
  if ((ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && (c->flags & kBlocked) && c->req) try_write(s, *c);
}

void EpollLoop::close(SocketId s) {
  Conn* c = conn(s);
  if (!c || (c->flags & kClosing)) return;
  c->flags |= kClosing;
  update_interest(s, *c);
  if (c->req) {
    requests_.destroy(c->req);
    c->req = nullptr;
  }
  // The fd stays open until finish_closes so its number cannot be reused meanwhile.
  closing_.push_back(s);
}

void EpollLoop::finish_closes() {
  while (!closing_.empty()) {
    closing_scratch_.swap(closing_);
    for (SocketId s : closing_scratch_) {
      Conn& c = conns_[s];
      const bool started = c.flags & kStarted;
      void* ctx = c.ctx;
      ::close(static_cast<int>(s));
      c = Conn{nullptr, nullptr, c.gen + 1, 0, 0};
      --live_;
      if (started) h_->on_closed(ctx);
    }
    closing_scratch_.clear();
    retry_listeners();
  }
}

void EpollLoop::set_tick_interval(unsigned ms) {
  itimerspec its{};
  its.it_interval.tv_sec = ms / 1000;
  its.it_interval.tv_nsec = static_cast<long>(ms % 1000) * 1000000L;
  its.it_value = its.it_interval;
  ::timerfd_settime(tfd_, 0, &its, nullptr);
}

void EpollLoop::wake() {
  if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(efd_, &one, sizeof(one));
}

void EpollLoop::run(LoopHandler& handler) {
  h_ = &handler;
  running_ = true;
  while (running_) {
    handler.on_turn_end();
    if (!running_) break;
    flush_sends();
    const int timeout = completions_.empty() && closing_.empty() ? -1 : 0;
    const int n = ::epoll_wait(ep_, events_.data(), static_cast<int>(events_.size()), timeout);
    deliver_completions();
    for (int i = 0; i < n && running_; ++i) {
      const std::uint64_t t = events_[i].data.u64;
      const auto idx = static_cast<std::uint32_t>(t);
      switch (static_cast<Kind>(t >> 62)) {
        case kSocket: {
          const Conn* c = conn(idx);
          if (c && (c->gen & 0x3fffffffu) == ((t >> 32) & 0x3fffffffu))
            on_socket(idx, events_[i].events);
          break;
        }
        case kListener:
          on_listener(idx);
          break;
        case kWake: {
          // Drain the eventfd first, then clear the flag: a wake() between the two sees
          // the flag still set and skips its write, but our acq_rel exchange then reads
          // its store, so on_wake sees what it published. The other order loses wakes.
          std::uint64_t v;
          [[maybe_unused]] ssize_t r = ::read(efd_, &v, sizeof(v));
          wake_pending_.exchange(false, std::memory_order_acq_rel);
          handler.on_wake();
          break;
        }
        case kTick: {
          std::uint64_t v;
          if (::read(tfd_, &v, sizeof(v)) == sizeof(v)) {
            retry_listeners();
            handler.on_tick();
          }
          break;
        }
      }
    }
    finish_closes();
  }
}

}  // namespace

std::unique_ptr<Loop> make_epoll_loop(const LoopOptions& opts, std::string* why) {
  auto loop = std::make_unique<EpollLoop>(opts);
  if (!loop->init(why)) return nullptr;
  return loop;
}

}  // namespace shardmq::io
