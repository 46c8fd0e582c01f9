// shardmq: start-up, signals, shutdown.
#include <pthread.h>
#include <signal.h>

#include <cstdio>

#include "broker/broker.hpp"
#include "broker/config/command_line.hpp"
#include "broker/log.hpp"

using namespace shardmq::broker;

// jemalloc reads this at start-up. A burst of connects leaves freed transient objects
// behind (decoded packets, handshake messages between shards); return those pages after
// 1 s rather than jemalloc's default 10 s so memory tracks what the broker really holds.
// Objects over 4 KiB (index tables, buffer pages, vectors that grew) skip the per-thread
// caches: each shard's thread would otherwise keep its own stock of them, a cost that grows
// with the shard count (38,000 clients on 32 shards: 911 -> 809 bytes per connection).
// MALLOC_CONF in the environment still overrides it.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "dirty_decay_ms:1000,muzzy_decay_ms:0,tcache_max:4096";
}

int main(int argc, char** argv) {
  CommandLine cl = parse_command_line(argc, argv);
  if (cl.exit_now) return cl.exit_code;
  // Before the configured level applies: a file that logs errors only must still say what
  // of it is ignored.
  for (const std::string& w : cl.warnings)
    log_warn("{}", w);
  set_log_level(cl.config.log_level);
  set_log_format(cl.config.log_format);

  // Shard threads inherit this mask: only the main thread takes the stop signals.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Broker broker(cl.config);
  if (!broker.start()) return 1;
  log_info("shardmq {} ready with {} shard(s)", SHARDMQ_VERSION, broker.shard_count());

  int sig = 0;
  while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP) {
    std::vector<std::string> warnings;  // reported at start-up already
    auto fresh = cl.source.load(warnings);
    if (!fresh) log_error("reload failed, keeping the old settings: {}", fresh.error());
    broker.reload(fresh ? &*fresh : nullptr);
  }
  log_info("received {}, closing clients", sig == SIGINT ? "SIGINT" : "SIGTERM");
  broker.stop();
  log_info("stopped");
  return 0;
}
