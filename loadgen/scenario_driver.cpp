#include "loadgen/scenario_driver.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>

namespace shardmq::loadgen {

unsigned clients_per_process_cap() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  // Use the hard limit: prepare_run raises the soft one to it.
  rlim_t cap = rl.rlim_max == RLIM_INFINITY ? 1'000'000 : rl.rlim_max;
  return cap > 200 ? static_cast<unsigned>(std::min<rlim_t>(cap - 100, 1'000'000)) : 1;
}

static std::optional<in_addr> resolve(const std::string& host) {
  in_addr a{};
  if (inet_pton(AF_INET, host.c_str(), &a) == 1) return a;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) return std::nullopt;
  a = reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr;
  freeaddrinfo(res);
  return a;
}

std::optional<RunSetup> prepare_run(const Options& o, std::uint64_t total_clients,
                                    unsigned min_procs) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  RunSetup s;
  auto addr = resolve(o.host);
  if (!addr) {
    fmt::print(stderr, "shardmq-load: cannot resolve {}\n", o.host);
    return std::nullopt;
  }
  s.server.sin_family = AF_INET;
  s.server.sin_port = htons(o.port ? o.port : (o.tls ? 8883 : 1883));
  s.server.sin_addr = *addr;
  if (o.size < 16) {
    fmt::print(stderr, "shardmq-load: --size must be at least 16 (sequence + timestamp)\n");
    return std::nullopt;
  }
  auto src = SourceAddresses::plan(o.sources, total_clients, *addr);
  if (!src) {
    fmt::print(stderr, "shardmq-load: {}\n", src.error());
    return std::nullopt;
  }
  s.sources = std::move(*src);
  if ((!o.cafile.empty() || o.insecure) && !o.tls) {
    fmt::print(stderr, "shardmq-load: --cafile and --insecure need --tls\n");
    return std::nullopt;
  }
  if (o.tls) {
    std::string error;
    s.tls = TlsClientContext::create(o, error);
    if (!s.tls) {
      fmt::print(stderr, "shardmq-load: TLS: {}\n", error);
      return std::nullopt;
    }
  }
  unsigned cap = clients_per_process_cap();
  auto needed = static_cast<unsigned>((total_clients + cap - 1) / cap);
  s.procs = o.procs ? o.procs : std::max({1u, needed, min_procs});
  if (s.procs < needed) {
    fmt::print(stderr, "shardmq-load: {} clients need --procs >= {} (open-file cap {} each)\n",
               total_clients, needed, cap + 100);
    return std::nullopt;
  }
  std::fflush(nullptr);  // forked workers must not repeat buffered output
  return s;
}

std::uint64_t share_of(std::uint64_t total, unsigned procs, unsigned w) {
  return total / procs + (w < total % procs ? 1 : 0);
}

int add_connection_figures(Report& r, const PoolResult& res) {
  const Tally& t = res.tally;
  r.add_int("clients", t.clients);
  r.add_int("connected", t.connected);
  r.add_int("held_at_end", t.held_at_end);
  r.add_int("connect_failed", t.connect_failed);
  r.add_int("refused", t.refused);
  r.add_int("dropped", t.dropped);
  r.add_int("workers_failed", res.workers_failed);
  r.add("setup_s", t.setup_seconds, "s");
  r.add("window_s", t.measured_seconds, "s");
  bool bad =
      t.connected < t.clients || t.dropped || t.refused || t.connect_failed || res.workers_failed;
  return bad ? kExitClients : kExitOk;
}

void print_report(const Report& r, const Options& o) {
  fmt::print("{}", o.json ? r.json() : r.text());
  std::fflush(stdout);
}

int finish_report(Report& r, const Options& o, const Tally& t, int rc, const char* latency_name,
                  const char* duplicates_name) {
  r.add_int("lost", t.lost);
  r.add_int(duplicates_name, t.duplicates);
  r.add_latency(latency_name, t.latency_ns);
  print_report(r, o);
  if (rc == kExitOk && o.qos >= 1 && (t.lost || t.duplicates)) rc = kExitLoss;
  return rc;
}

}  // namespace shardmq::loadgen
