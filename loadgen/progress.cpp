#include "loadgen/progress.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "loadgen/clock.hpp"

namespace shardmq::loadgen {

void Progress::setup(std::uint64_t now, std::uint64_t setup_start) {
  if (!on_ || now - last_ < kNsPerSec) return;
  last_ = now;
  fmt::print(stderr, "shardmq-load: progress setup {:.0f} s: {} of {} connected, {} failed\n",
             static_cast<double>(now - setup_start) / kNsPerSec, ctx_.shared->connected.load(),
             ctx_.total_clients, ctx_.shared->failed.load());
  std::fflush(stderr);
}

void Progress::window_started(std::uint64_t setup_start) {
  if (!on_) return;
  fmt::print(stderr, "shardmq-load: progress window start: {} of {} connected, setup {:.1f} s\n",
             ctx_.shared->connected.load(), ctx_.total_clients,
             static_cast<double>(now_ns() - setup_start) / kNsPerSec);
  std::fflush(stderr);
}

void Progress::window_ended() {
  if (!on_) return;
  fmt::print(stderr, "shardmq-load: progress window end\n");
  std::fflush(stderr);
}

void Progress::closed(std::uint64_t since) {
  if (!on_) return;
  fmt::print(stderr, "shardmq-load: progress closed: drain and close took {:.1f} s\n",
             static_cast<double>(now_ns() - since) / kNsPerSec);
  std::fflush(stderr);
}

std::uint64_t own_pss_kib() {
  std::ifstream f("/proc/self/smaps_rollup");
  std::string key;
  std::uint64_t kib = 0;
  while (f >> key) {
    if (key == "Pss:") {
      f >> kib;
      return kib;
    }
    f.ignore(1 << 20, '\n');
  }
  return 0;
}

double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

}  // namespace shardmq::loadgen
