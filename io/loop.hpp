// The event-loop interface every shard runs on. Two backends implement it:
// io/uring_loop.* (liburing: multishot accept and receive, provided buffers, direct
// descriptors, one io_uring_submit per turn) and io/epoll_loop.* (portable fallback).
// make_loop() in io/loop_factory.cpp probes io_uring and picks one at run time.
//
// Threading: a Loop is created, used and destroyed on one thread (its shard), except
// wake(), which any thread may call.
//
// Ownership of sockets: a socket accepted by a loop lives in that loop only. With io_uring
// it is a direct descriptor in the loop's own fixed-file table, never in the process's
// file table, so the per-process open-file limit bounds each shard rather than the broker.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace shardmq::io {

// A socket as this loop knows it. Opaque to callers; valid from on_accept until the
// on_closed callback for it returns.
using SocketId = std::uint32_t;
inline constexpr SocketId kInvalidSocket = 0xffffffffu;

enum class Backend { uring, epoll };
enum class BackendChoice { auto_detect, uring, epoll };

const char* backend_name(Backend b);

struct PeerAddress {
  sockaddr_storage addr{};  // ss_family == AF_UNSPEC when the backend could not learn it
  socklen_t len = 0;
  std::string to_string() const;  // "127.0.0.1:5555", "[::1]:5555" or "unknown"
  std::string host() const;       // "127.0.0.1", "::1" or "unknown"
};

// What a loop reports to its owner. Every callback runs on the loop's thread.
class LoopHandler {
 public:
  virtual ~LoopHandler() = default;

  // A connection arrived on listener `listener_tag`. The handler takes it with
  // Loop::start(socket, ctx) or refuses it with Loop::close(socket).
  virtual void on_accept(std::uint32_t listener_tag, SocketId socket, const PeerAddress& peer) = 0;

  // Bytes received. `data` is valid only during the call (it lives in a loop-owned
  // buffer that is recycled afterwards): keep what you need by copying it.
  virtual void on_data(void* ctx, std::span<const std::byte> data) = 0;

  // A send issued with Loop::send completed; `bytes` may be less than asked (a partial
  // write): the handler sends the rest. Only one send per socket is in flight at a time.
  // A send that fails gives no on_sent: on_peer_closed(ctx, err) comes instead.
  virtual void on_sent(void* ctx, std::size_t bytes) = 0;

  // The peer closed (EOF) or the socket failed (err is a positive errno, 0 for EOF).
  // No more on_data follows. The handler should call Loop::close(). At most once per socket,
  // and never after Loop::close().
  virtual void on_peer_closed(void* ctx, int err) = 0;

  // After Loop::close(): every operation on the socket is finished or cancelled, no more
  // callbacks for ctx follow, and ctx may be freed. Called exactly once per started socket.
  virtual void on_closed(void* ctx) = 0;

  // Another thread called wake() (coalesced: many wakes may give one call).
  virtual void on_wake() = 0;

  // The periodic tick set by Loop::set_tick_interval.
  virtual void on_tick() = 0;

  // The loop is about to submit its batch and wait: flush buffered output here.
  virtual void on_turn_end() = 0;
};

struct ListenerOptions {
  int backlog = 4096;
  bool reuse_port = true;  // one listening socket per shard, the kernel balances accepts
};

class Loop {
 public:
  virtual ~Loop() = default;

  virtual Backend backend() const = 0;

  // Binds and listens on host:port (SO_REUSEPORT, TCP_NODELAY inherited by accepted
  // sockets) and accepts on it; returns the bound port (useful with port 0) or -errno.
  virtual int listen(const std::string& host, std::uint16_t port, std::uint32_t tag,
                     const ListenerOptions& opts) = 0;

  // Starts receiving on an accepted socket; ctx comes back in every callback for it.
  virtual void start(SocketId socket, void* ctx) = 0;

  // Stops and resumes delivering on_data for a socket (back-pressure on a publisher). No
  // on_data arrives between pause_recv and resume_recv; nothing received is lost.
  virtual void pause_recv(SocketId socket) = 0;
  virtual void resume_recv(SocketId socket) = 0;

  // Sends the buffers; they must stay valid and unchanged until on_sent. At most one send
  // per socket in flight. Submitted in the turn's batch.
  virtual void send(SocketId socket, const iovec* iov, int iovcnt) = 0;

  // Closes the socket (cancelling what is in flight); on_closed follows for a started
  // socket. Closing a socket never started (refused in on_accept) gives no callback.
  virtual void close(SocketId socket) = 0;

  // Stops accepting on every listener (graceful shutdown begins).
  virtual void stop_listening() = 0;

  // on_tick every `ms` milliseconds (0 disables).
  virtual void set_tick_interval(unsigned ms) = 0;

  // Thread-safe: makes the loop call on_wake soon, from any thread.
  virtual void wake() = 0;

  // Runs until stop() is called from the loop's thread (e.g. in a callback).
  virtual void run(LoopHandler& handler) = 0;
  virtual void stop() = 0;

  // How many sockets this loop can hold at once (fixed-file table size for uring).
  virtual std::size_t socket_capacity() const = 0;
};

struct LoopOptions {
  BackendChoice backend = BackendChoice::auto_detect;
  std::uint32_t max_sockets = 0;  // 0: as many as RLIMIT_NOFILE allows
  std::uint32_t recv_buffer_size = 16 * 1024;
  std::uint32_t recv_buffer_count = 1024;   // provided buffers per loop at most (uring)
  std::uint32_t recv_buffers_initial = 32;  // the first ones; more as the load needs them
  unsigned queue_depth = 4096;
};

// Creates a loop for the calling thread. With auto_detect, io_uring is probed and epoll
// used when io_uring is missing or refused; `why` receives the reason for the fallback.
std::unique_ptr<Loop> make_loop(const LoopOptions& opts, std::string* why = nullptr);

}  // namespace shardmq::io
