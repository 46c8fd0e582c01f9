// Test server and blocking client helpers for the loop conformance suite.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/loop.hpp"

namespace shardmq::io::test {

struct Conn {
  SocketId id = kInvalidSocket;
  std::string in;           // everything received
  std::string out_pending;  // queued, sent at turn end
  std::string inflight;     // the send in flight
  std::size_t inflight_off = 0;
  bool sending = false;
  bool echo = true;
  int sent_calls = 0;
  int peer_closed = 0;
  int peer_err = -1;
  int closed = 0;
};

// An echo server whose behaviour tests adjust through hooks. Stops the loop when `done`
// holds (checked at every turn end), or after `tick_limit` ticks (a hang guard, reported
// as timed_out).
class TestServer : public LoopHandler {
 public:
  explicit TestServer(Loop& l) : loop(l) {}

  Loop& loop;
  std::vector<std::unique_ptr<Conn>> conns;
  std::vector<PeerAddress> peers;
  std::vector<std::uint32_t> tags;
  int closed_total = 0, wakes = 0, ticks = 0;
  bool start_on_accept = true;
  bool close_on_peer_closed = true;
  bool timed_out = false;
  int tick_limit = 1500;  // 30 s at the default 20 ms tick
  std::function<bool()> done = [] { return false; };
  std::function<void(Conn&)> accept_hook;
  std::function<void(Conn&, std::size_t)> data_hook;  // after appending n bytes
  std::function<void()> tick_hook;
  std::function<void()> wake_hook;

  void on_accept(std::uint32_t tag, SocketId s, const PeerAddress& peer) override {
    auto c = std::make_unique<Conn>();
    c->id = s;
    conns.push_back(std::move(c));
    peers.push_back(peer);
    tags.push_back(tag);
    if (start_on_accept) loop.start(s, conns.back().get());
    if (accept_hook) accept_hook(*conns.back());
  }
  void on_data(void* ctx, std::span<const std::byte> d) override {
    auto& c = *static_cast<Conn*>(ctx);
    c.in.append(reinterpret_cast<const char*>(d.data()), d.size());
    if (c.echo) c.out_pending.append(reinterpret_cast<const char*>(d.data()), d.size());
    if (data_hook) data_hook(c, d.size());
  }
  void on_sent(void* ctx, std::size_t n) override {
    auto& c = *static_cast<Conn*>(ctx);
    ++c.sent_calls;
    c.inflight_off += n;
    if (c.inflight_off < c.inflight.size()) {
      send_rest(c);
    } else {
      c.sending = false;
      c.inflight.clear();
      c.inflight_off = 0;
    }
  }
  void on_peer_closed(void* ctx, int err) override {
    auto& c = *static_cast<Conn*>(ctx);
    ++c.peer_closed;
    c.peer_err = err;
    if (close_on_peer_closed) loop.close(c.id);
  }
  void on_closed(void* ctx) override {
    ++static_cast<Conn*>(ctx)->closed;
    ++closed_total;
  }
  void on_wake() override {
    ++wakes;
    if (wake_hook) wake_hook();
  }
  void on_tick() override {
    ++ticks;
    if (tick_hook) tick_hook();
    if (ticks > tick_limit) {
      timed_out = true;
      loop.stop();
    }
  }
  void on_turn_end() override {
    for (auto& c : conns) {
      if (c->closed || c->sending || c->out_pending.empty()) continue;
      c->inflight.swap(c->out_pending);
      c->inflight_off = 0;
      c->sending = true;
      send_rest(*c);
    }
    if (done()) loop.stop();
  }

  // Sends what is left of the in-flight buffer, as three iovecs when it is big enough so
  // both the single-buffer and the scatter paths get exercised.
  void send_rest(Conn& c) {
    char* p = c.inflight.data() + c.inflight_off;
    const std::size_t n = c.inflight.size() - c.inflight_off;
    iovec iov[3];
    if (n >= 1024) {
      iov[0] = {p, n / 3};
      iov[1] = {p + n / 3, n / 3};
      iov[2] = {p + 2 * (n / 3), n - 2 * (n / 3)};
      loop.send(c.id, iov, 3);
    } else {
      iov[0] = {p, n};
      loop.send(c.id, iov, 1);
    }
  }

  void run_until(std::function<bool()> pred, unsigned tick_ms = 20) {
    done = std::move(pred);
    loop.set_tick_interval(tick_ms);
    loop.run(*this);
  }
};

// ---- blocking clients ----

inline int connect_to(std::uint16_t port, int rcvbuf = 0, const char* host = "127.0.0.1") {
  const bool v6 = std::string(host).find(':') != std::string::npos;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  timeval tv{20, 0};  // a hang guard, not a timing assertion
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (rcvbuf) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  int r;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    inet_pton(AF_INET6, host, &a.sin6_addr);
    r = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, host, &a.sin_addr);
    r = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  }
  if (r < 0) {
    const int e = errno;
    ::close(fd);
    return -e;
  }
  return fd;
}

inline bool write_all(int fd, const void* p, std::size_t n) {
  auto* b = static_cast<const char*>(p);
  while (n) {
    const ssize_t w = ::send(fd, b, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    b += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

inline bool read_exact(int fd, void* p, std::size_t n) {
  auto* b = static_cast<char*>(p);
  while (n) {
    const ssize_t r = ::recv(fd, b, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    b += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// True when the server closed the connection (EOF or reset) rather than sending data.
inline bool read_eof(int fd) {
  char c;
  for (;;) {
    const ssize_t r = ::recv(fd, &c, 1, 0);
    if (r < 0 && errno == EINTR) continue;
    return r == 0 || (r < 0 && errno == ECONNRESET);
  }
}

inline std::string pattern(std::size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& ch : s) {
    x = x * 1103515245u + 12345u;
    ch = static_cast<char>(x >> 24);
  }
  return s;
}

}  // namespace shardmq::io::test
