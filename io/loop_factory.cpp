// make_loop: picks the backend at run time (see docs/io.md, "Choosing a backend").
#include <cstdlib>
#include <cstring>

#include "io/epoll_loop.hpp"
#include "io/loop.hpp"
#include "io/uring_loop.hpp"

namespace shardmq::io {

const char* backend_name(Backend b) {
  switch (b) {
    case Backend::uring:
      return "io_uring";
    case Backend::epoll:
      return "epoll";
  }
  return "unknown";
}

std::unique_ptr<Loop> make_loop(const LoopOptions& opts, std::string* why) {
  std::string reason;
  if (opts.backend == BackendChoice::uring) {
    auto loop = make_uring_loop(opts, &reason);
    if (why) *why = reason;
    return loop;
  }
  if (opts.backend == BackendChoice::auto_detect) {
    const char* off = std::getenv("SHARDMQ_DISABLE_URING");
    if (off && std::strcmp(off, "1") == 0) {
      reason = "io_uring disabled by SHARDMQ_DISABLE_URING=1";
    } else if (auto loop = make_uring_loop(opts, &reason)) {
      if (why) why->clear();
      return loop;
    }
  }
  auto loop = make_epoll_loop(opts, why);
  if (loop && why) *why = reason;  // empty when epoll was asked for explicitly
  return loop;
}

}  // namespace shardmq::io
