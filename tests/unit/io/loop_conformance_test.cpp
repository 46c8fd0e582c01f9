// Runs the same behavioural checks against both Loop backends.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <thread>

#include "io/loop.hpp"
#include "loop_harness.hpp"

using namespace shardmq::io;
using namespace shardmq::io::test;

namespace {

std::unique_ptr<Loop> make_backend(Backend b, LoopOptions opts = {}) {
  opts.backend = b == Backend::uring ? BackendChoice::uring : BackendChoice::epoll;
  std::string why;
  auto loop = make_loop(opts, &why);
  if (!loop) WARN("skipping " << backend_name(b) << ": " << why);
  return loop;
}

std::uint16_t listen_local(Loop& loop, std::uint32_t tag = 7) {
  const int port = loop.listen("127.0.0.1", 0, tag, ListenerOptions{});
  REQUIRE(port > 0);
  return static_cast<std::uint16_t>(port);
}

}  // namespace

#define LOOP_OR_SKIP(var, backend, ...)            \
  auto var = make_backend(backend, ##__VA_ARGS__); \
  if (!var) return;                                \
  INFO("backend " << backend_name(backend))

TEST_CASE("loop: echo, peer address, peer close gives one on_closed", "[io][loop]") {
  const Backend b = GENERATE(Backend::uring, Backend::epoll);
  LOOP_OR_SKIP(loop, b);
  REQUIRE(loop->backend() == b);
  const auto port = listen_local(*loop);
  TestServer srv(*loop);
  std::atomic<bool> client_done{false};
  bool ok = false;
  const std::string big = pattern(100000);
  std::thread client([&] {
    int fd = connect_to(port);
    ok = fd >= 0;
    for (int i = 0; ok && i < 10; ++i) {
      const std::string msg = "hello " + std::to_string(i);
      std::string back(msg.size(), '\0');
      ok = write_all(fd, msg.data(), msg.size()) && read_exact(fd, back.data(), back.size()) &&
           back == msg;
    }
    std::string back(big.size(), '\0');
    ok = ok && write_all(fd, big.data(), big.size()) && read_exact(fd, back.data(), back.size()) &&
         back == big;
    if (fd >= 0) ::close(fd);
    client_done = true;
    loop->wake();
  });
  srv.run_until([&] { return client_done && srv.closed_total == 1; });
  client.join();
  REQUIRE_FALSE(srv.timed_out);
  CHECK(ok);
  REQUIRE(srv.conns.size() == 1);
  const Conn& c = *srv.conns[0];
  CHECK(srv.tags[0] == 7);
  CHECK(srv.peers[0].to_string().rfind("127.0.0.1:", 0) == 0);
  CHECK(c.in.size() == 10 * 7 + big.size());
  CHECK(c.peer_closed == 1);
  CHECK(c.peer_err == 0);
  CHECK(c.closed == 1);
}

TEST_CASE("loop: 4 MB send through a slow reader arrives whole", "[io][loop]") {
  const Backend b = GENERATE(Backend::uring, Backend::epoll);
  LOOP_OR_SKIP(loop, b);
  const auto port = listen_local(*loop);
  TestServer srv(*loop);
  const std::string payload = pattern(4 << 20, 3);
  srv.accept_hook = [&](Conn& c) { c.out_pending = payload; };
  std::atomic<bool> client_done{false};
  bool ok = false;
  std::thread client([&] {
    int fd = connect_to(port, 32 * 1024);
    std::string got(payload.size(), '\0');
    std::size_t off = 0;
    ok = fd >= 0;
    while (ok && off < got.size()) {
      const std::size_t n = std::min<std::size_t>(16 * 1024, got.size() - off);
      ok = read_exact(fd, got.data() + off, n);
      off += n;
      if ((off / n) % 8 == 0) std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    ok = ok && got == payload;
    if (fd >= 0) ::close(fd);
    client_done = true;
    loop->wake();
  });
  srv.run_until([&] { return client_done && srv.closed_total == 1; });
  client.join();
  REQUIRE_FALSE(srv.timed_out);
  CHECK(ok);
  REQUIRE(srv.conns.size() == 1);
  INFO("on_sent calls: " << srv.conns[0]->sent_calls);
  CHECK(srv.conns[0]->sent_calls >= 1);
  CHECK(srv.conns[0]->closed == 1);
}

TEST_CASE("loop: no on_data while paused, everything in order after resume", "[io][loop]") {
  const Backend b = GENERATE(Backend::uring, Backend::epoll);
  LOOP_OR_SKIP(loop, b);
  const auto port = listen_local(*loop);
  TestServer srv(*loop);
  const std::string payload = pattern(32 * 1024, 5);
  bool paused = false, resumed = false;
  int violations = 0, ticks_while_paused = 0;
  std::atomic<bool> sent_all{false}, client_done{false};
  srv.data_hook = [&](Conn& c, std::size_t) {
    c.echo = false;
    if (paused && !resumed) ++violations;
    if (!paused) {
      loop->pause_recv(c.id);
      paused = true;
    }
  };
  srv.tick_hook = [&] {
    if (!paused || resumed || !sent_all) return;
    // A few whole turns with all data sent and nothing may arrive; then resume.
    if (++ticks_while_paused == 5) {
      resumed = true;
      loop->resume_recv(srv.conns[0]->id);
    }
  };
  bool ok = false;
  std::thread client([&] {
    int fd = connect_to(port);
    ok = fd >= 0 && write_all(fd, payload.data(), 100);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (std::size_t off = 100; ok && off < payload.size(); off += 1000)
      ok = write_all(fd, payload.data() + off, std::min<std::size_t>(1000, payload.size() - off));
    sent_all = true;
    while (!client_done)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (fd >= 0) ::close(fd);
  });
  srv.run_until([&] { return !srv.conns.empty() && srv.conns[0]->in.size() == payload.size(); },
                10);
  client_done = true;
  client.join();
  REQUIRE_FALSE(srv.timed_out);
  CHECK(ok);
  CHECK(paused);
  CHECK(resumed);
  CHECK(violations == 0);
  CHECK(srv.conns[0]->in == payload);
}

TEST_CASE("loop: server close and refusal", "[io][loop]") {
  const Backend b = GENERATE(Backend::uring, Backend::epoll);
  LOOP_OR_SKIP(loop, b);
  const auto port = listen_local(*loop);
  TestServer srv(*loop);
  SECTION("close after start: client sees EOF, one on_closed, no on_peer_closed") {
    srv.accept_hook = [&](Conn& c) { loop->close(c.id); };
    std::atomic<bool> client_done{false};
    bool eof = false;
    std::thread client([&] {
      int fd = connect_to(port);
      eof = fd >= 0 && read_eof(fd);
      if (fd >= 0) ::close(fd);
      client_done = true;
      loop->wake();
    });
    srv.run_until([&] { return client_done && srv.closed_total == 1; });
    client.join();
    REQUIRE_FALSE(srv.timed_out);
    CHECK(eof);
    CHECK(srv.conns[0]->closed == 1);
    CHECK(srv.conns[0]->peer_closed == 0);
  }
  SECTION("refused in on_accept: no on_closed at all") {
    srv.start_on_accept = false;
    srv.accept_hook = [&](Conn& c) { loop->close(c.id); };
    std::atomic<bool> client_done{false};
    bool eof = false;
    int ticks_after = 0;
    srv.tick_hook = [&] {
      if (client_done) ++ticks_after;
    };
    std::thread client([&] {
      int fd = connect_to(port);
      eof = fd >= 0 && read_eof(fd);
      if (fd >= 0) ::close(fd);
      client_done = true;
    });
    srv.run_until([&] { return ticks_after >= 3; });
    client.join();
    REQUIRE_FALSE(srv.timed_out);
    CHECK(eof);
    CHECK(srv.conns.size() == 1);
    CHECK(srv.closed_total == 0);
  }
  SECTION("close with a send in flight to a reader that never reads") {
    const std::string payload = pattern(8 << 20, 9);
    srv.accept_hook = [&](Conn& c) {
      c.out_pending = payload;
      const int at = srv.ticks;
      srv.tick_hook = [&, at] {
        if (srv.ticks == at + 5) loop->close(c.id);
      };
    };
    std::atomic<bool> client_done{false};
    std::thread client([&] {
      int fd = connect_to(port, 16 * 1024);
      while (!client_done)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (fd >= 0) ::close(fd);
    });
    srv.run_until([&] { return srv.closed_total == 1; });
    client_done = true;
    client.join();
    REQUIRE_FALSE(srv.timed_out);
    CHECK(srv.conns[0]->closed == 1);
    CHECK(srv.conns[0]->peer_closed == 0);
  }
}

TEST_CASE("loop: wake from another thread is coalesced and seen", "[io][loop]") {
  const Backend b = GENERATE(Backend::uring, Backend::epoll);
  LOOP_OR_SKIP(loop, b);
  TestServer srv(*loop);
  constexpr int kWakes = 10000;
  std::atomic<int> published{0};
  bool saw_last = false;
  srv.wake_hook = [&] {
    if (published.load(std::memory_order_acquire) == kWakes) saw_last = true;
  };
  std::thread waker([&] {
    for (int i = 0; i < kWakes; ++i) {
      published.store(i + 1, std::memory_order_release);
      loop->wake();
    }
  });
  srv.run_until([&] { return saw_last; });
  waker.join();
  REQUIRE_FALSE(srv.timed_out);
  CHECK(srv.wakes >= 1);
  CHECK(srv.wakes <= kWakes);
}

TEST_CASE("loop: tick fires and stop() ends run; run can resume", "[io][loop]") {
  const Backend b = GENERATE(Backend::uring, Backend::epoll);
  LOOP_OR_SKIP(loop, b);
  TestServer srv(*loop);
  srv.tick_hook = [&] {
    if (srv.ticks == 3) loop->stop();
  };
  loop->set_tick_interval(5);
  loop->run(srv);
  CHECK(srv.ticks == 3);
  srv.tick_hook = [&] {
    if (srv.ticks == 6) loop->stop();
  };
  loop->run(srv);
  CHECK(srv.ticks == 6);
  loop->set_tick_interval(0);
}

TEST_CASE("loop: 500 concurrent connections", "[io][loop]") {
  const Backend b = GENERATE(Backend::uring, Backend::epoll);
  LOOP_OR_SKIP(loop, b);
  const auto port = listen_local(*loop);
  TestServer srv(*loop);
  constexpr int kConns = 500;
  std::atomic<bool> client_done{false};
  int good = 0;
  std::thread client([&] {
    std::vector<int> fds;
    for (int i = 0; i < kConns; ++i)
      fds.push_back(connect_to(port));
    for (int i = 0; i < kConns; ++i) {
      const std::string m = "conn-" + std::to_string(i) + pattern(64, i);
      if (fds[i] >= 0) write_all(fds[i], m.data(), m.size());
    }
    for (int i = 0; i < kConns; ++i) {
      const std::string m = "conn-" + std::to_string(i) + pattern(64, i);
      std::string back(m.size(), '\0');
      if (fds[i] >= 0 && read_exact(fds[i], back.data(), back.size()) && back == m) ++good;
    }
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
    client_done = true;
    loop->wake();
  });
  srv.run_until([&] { return client_done && srv.closed_total == kConns; });
  client.join();
  REQUIRE_FALSE(srv.timed_out);
  CHECK(good == kConns);
  CHECK(srv.conns.size() == kConns);
  int once = 0;
  for (auto& c : srv.conns)
    once += c->closed == 1 && c->peer_closed == 1;
  CHECK(once == kConns);
}

TEST_CASE("loop: stop() inside a callback, then run continues", "[io][loop]") {
  const Backend b = GENERATE(Backend::uring, Backend::epoll);
  LOOP_OR_SKIP(loop, b);
  const auto port = listen_local(*loop);
  TestServer srv(*loop);
  srv.accept_hook = [&](Conn&) { loop->stop(); };
  std::atomic<bool> client_done{false};
  bool ok = false;
  std::thread client([&] {
    int fd = connect_to(port);
    char back[4];
    ok = fd >= 0 && write_all(fd, "ping", 4) && read_exact(fd, back, 4) &&
         std::string(back, 4) == "ping";
    if (fd >= 0) ::close(fd);
    client_done = true;
    loop->wake();
  });
  loop->run(srv);
  CHECK(srv.conns.size() == 1);
  srv.accept_hook = nullptr;
  srv.run_until([&] { return client_done && srv.closed_total == 1; });
  client.join();
  REQUIRE_FALSE(srv.timed_out);
  CHECK(ok);
}

TEST_CASE("loop: stop_listening refuses new connections", "[io][loop]") {
  const Backend b = GENERATE(Backend::uring, Backend::epoll);
  LOOP_OR_SKIP(loop, b);
  const auto port = listen_local(*loop);
  TestServer srv(*loop);
  int stopped_at = -1;
  srv.accept_hook = [&](Conn&) {
    loop->stop_listening();
    stopped_at = srv.ticks;
  };
  int fd = connect_to(port);
  REQUIRE(fd >= 0);
  srv.run_until([&] { return stopped_at >= 0 && srv.ticks >= stopped_at + 3; }, 5);
  REQUIRE_FALSE(srv.timed_out);
  CHECK(connect_to(port) == -ECONNREFUSED);
  ::close(fd);
}

TEST_CASE("loop: tiny provided-buffer pool still carries every byte", "[io][loop]") {
  const Backend b = GENERATE(Backend::uring, Backend::epoll);
  // A pool of 2 that cannot grow, and one that starts with 1 and grows to 64 under the load.
  const std::uint32_t most = GENERATE(2u, 64u);
  LoopOptions opts;
  opts.recv_buffer_count = most;
  opts.recv_buffers_initial = 1;
  opts.recv_buffer_size = 512;
  LOOP_OR_SKIP(loop, b, opts);
  const auto port = listen_local(*loop);
  TestServer srv(*loop);
  constexpr int kConns = 8;
  std::atomic<bool> client_done{false};
  int good = 0;
  std::thread client([&] {
    std::vector<int> fds;
    for (int i = 0; i < kConns; ++i)
      fds.push_back(connect_to(port));
    for (int i = 0; i < kConns; ++i) {
      const std::string m = pattern(32 * 1024, 100 + i);
      if (fds[i] >= 0) write_all(fds[i], m.data(), m.size());
    }
    for (int i = 0; i < kConns; ++i) {
      const std::string m = pattern(32 * 1024, 100 + i);
      std::string back(m.size(), '\0');
      if (fds[i] >= 0 && read_exact(fds[i], back.data(), back.size()) && back == m) ++good;
      if (fds[i] >= 0) ::close(fds[i]);
    }
    client_done = true;
    loop->wake();
  });
  srv.run_until([&] { return client_done && srv.closed_total == kConns; });
  client.join();
  REQUIRE_FALSE(srv.timed_out);
  CHECK(good == kConns);
}

TEST_CASE("loop: socket capacity caps live sockets", "[io][loop]") {
  const Backend b = GENERATE(Backend::uring, Backend::epoll);
  LoopOptions opts;
  opts.max_sockets = 4;
  LOOP_OR_SKIP(loop, b, opts);
  CHECK(loop->socket_capacity() == 4);
  const auto port = listen_local(*loop);
  TestServer srv(*loop);
  std::atomic<bool> client_done{false};
  int eofs = 0;
  std::thread client([&] {
    std::vector<int> fds;
    for (int i = 0; i < 6; ++i)
      fds.push_back(connect_to(port));
    // The loop echoes on accepted sockets and drops the rest.
    for (int fd : fds) {
      char c = 'x';
      if (fd < 0 || !write_all(fd, &c, 1)) continue;
      if (::recv(fd, &c, 1, 0) <= 0) ++eofs;
    }
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
    client_done = true;
    loop->wake();
  });
  srv.run_until([&] { return client_done && srv.closed_total == 4; });
  client.join();
  REQUIRE_FALSE(srv.timed_out);
  CHECK(srv.conns.size() == 4);
  CHECK(eofs == 2);
}

TEST_CASE("loop: IPv6 and localhost listeners", "[io][loop]") {
  const Backend b = GENERATE(Backend::uring, Backend::epoll);
  LOOP_OR_SKIP(loop, b);
  CHECK(loop->listen("no.such.host", 0, 1, {}) == -EINVAL);
  CHECK(loop->listen("localhost", 0, 1, {}) > 0);
  const int port = loop->listen("::1", 0, 2, {});
  if (port < 0) {
    WARN("no IPv6 loopback here");
    return;
  }
  TestServer srv(*loop);
  std::atomic<bool> client_done{false};
  std::thread client([&] {
    int fd = connect_to(static_cast<std::uint16_t>(port), 0, "::1");
    char c = 'x';
    if (fd >= 0) {
      if (write_all(fd, &c, 1)) read_exact(fd, &c, 1);
      ::close(fd);
    }
    client_done = true;
    loop->wake();
  });
  srv.run_until([&] { return client_done && srv.closed_total == 1; });
  client.join();
  REQUIRE_FALSE(srv.timed_out);
  REQUIRE(srv.peers.size() == 1);
  CHECK(srv.tags[0] == 2);
  CHECK(srv.peers[0].to_string().rfind("[::1]:", 0) == 0);
}

TEST_CASE("make_loop: backend choice and the SHARDMQ_DISABLE_URING fallback", "[io][loop]") {
  std::string why = "x";
  auto e = make_loop(LoopOptions{BackendChoice::epoll}, &why);
  REQUIRE(e);
  CHECK(e->backend() == Backend::epoll);
  CHECK(why.empty());
  CHECK(std::string(backend_name(Backend::uring)) == "io_uring");

  ::setenv("SHARDMQ_DISABLE_URING", "1", 1);
  auto f = make_loop(LoopOptions{}, &why);
  ::unsetenv("SHARDMQ_DISABLE_URING");
  REQUIRE(f);
  CHECK(f->backend() == Backend::epoll);
  CHECK(why.find("SHARDMQ_DISABLE_URING") != std::string::npos);

  std::string uwhy;
  auto u = make_loop(LoopOptions{BackendChoice::uring}, &uwhy);
  auto a = make_loop(LoopOptions{}, &why);
  REQUIRE(a);
  if (u) {
    CHECK(a->backend() == Backend::uring);
    CHECK(why.empty());
  } else {
    WARN("io_uring unavailable: " << uwhy);
    CHECK(a->backend() == Backend::epoll);
    CHECK(why == uwhy);
  }
}
