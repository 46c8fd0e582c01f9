#include "loadgen/worker_pool.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <vector>

#include "loadgen/clock.hpp"

namespace shardmq::loadgen {

namespace {

constexpr double kGraceSeconds = 5;

bool write_all(int fd, const void* p, std::size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = ::write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    c += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool result_delivered = false;  // this (forked) process sent its Tally already

struct Child {
  pid_t pid = -1;
  int fd = -1;
  std::vector<char> got;
  bool done = false;
};

}  // namespace

void deliver_result(const WorkerContext& ctx, const Tally& t) {
  if (ctx.result_fd < 0 || result_delivered) return;
  result_delivered = write_all(ctx.result_fd, &t, sizeof t);
  if (!result_delivered) _exit(1);
}

PoolResult run_workers(unsigned procs, const std::function<std::uint64_t(unsigned)>& split,
                       const std::function<Tally(const WorkerContext&, std::uint64_t)>& work,
                       double bound_seconds) {
  PoolResult out;
  void* mem =
      mmap(nullptr, sizeof(SharedState), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    out.workers_failed = procs;
    return out;
  }
  auto* shared = new (mem) SharedState();
  auto run_id = static_cast<std::uint32_t>(getpid());

  std::vector<WorkerContext> ctx(procs);
  std::uint64_t first = 0;
  for (unsigned w = 0; w < procs; ++w) {
    ctx[w] = WorkerContext{w, procs, first, run_id, shared};
    first += split(w);
  }
  for (auto& c : ctx)
    c.total_clients = first;

  if (procs == 1) {
    out.tally = work(ctx[0], split(0));
    munmap(mem, sizeof(SharedState));
    return out;
  }

  std::vector<Child> children(procs);
  for (unsigned w = 0; w < procs; ++w) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
      ++out.workers_failed;
      continue;
    }
    pid_t pid = fork();
    if (pid == 0) {
      ::close(p[0]);
      // The hard bound holds even if this worker wedges: SIGALRM's default action ends it.
      alarm(static_cast<unsigned>(bound_seconds + kGraceSeconds - 1));
      ctx[w].result_fd = p[1];
      Tally t = work(ctx[w], split(w));
      deliver_result(ctx[w], t);
      _exit(0);
    }
    ::close(p[1]);
    if (pid < 0) {
      ::close(p[0]);
      ++out.workers_failed;
      continue;
    }
    children[w].pid = pid;
    children[w].fd = p[0];
  }

  const std::uint64_t deadline =
      now_ns() + static_cast<std::uint64_t>((bound_seconds + kGraceSeconds) * kNsPerSec);
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<unsigned> who;
    for (unsigned w = 0; w < procs; ++w) {
      if (children[w].fd >= 0 && !children[w].done) {
        fds.push_back({children[w].fd, POLLIN, 0});
        who.push_back(w);
      }
    }
    if (fds.empty()) break;
    std::uint64_t now = now_ns();
    if (now >= deadline) break;
    int r = poll(fds.data(), fds.size(), static_cast<int>((deadline - now) / 1'000'000 + 1));
    if (r < 0 && errno != EINTR) break;
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (!fds[k].revents) continue;
      Child& c = children[who[k]];
      char buf[4096];
      ssize_t n = ::read(c.fd, buf, sizeof buf);
      if (n > 0) {
        c.got.insert(c.got.end(), buf, buf + n);
        // Its result is in: it may still be closing its sockets (waitpid waits for that).
        if (c.got.size() >= sizeof(Tally)) c.done = true;
      } else if (n == 0 || errno != EINTR) {
        c.done = true;
      }
    }
  }
  for (auto& c : children) {
    if (c.pid < 0) continue;
    if (!c.done) kill(c.pid, SIGKILL);
    int st = 0;
    waitpid(c.pid, &st, 0);
    ::close(c.fd);
    if (c.got.size() == sizeof(Tally)) {
      Tally t;
      std::memcpy(static_cast<void*>(&t), c.got.data(), sizeof t);
      out.tally.merge(t);
    } else {
      ++out.workers_failed;
      fmt::print(stderr, "shardmq-load: worker {} gave no result (status {:#x})\n", c.pid, st);
    }
  }
  shared->~SharedState();
  munmap(mem, sizeof(SharedState));
  return out;
}

}  // namespace shardmq::loadgen
