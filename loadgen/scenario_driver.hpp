// The part of every subcommand around its scenario class: resolve the broker, plan source
// addresses and worker processes, run the workers, add the connection figures every
// report shares and choose the exit code.
#pragma once

#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "loadgen/options.hpp"
#include "loadgen/report.hpp"
#include "loadgen/source_addresses.hpp"
#include "loadgen/tls_client.hpp"
#include "loadgen/worker_pool.hpp"

namespace shardmq::loadgen {

// Exit codes of shardmq-load.
inline constexpr int kExitOk = 0;
inline constexpr int kExitClients = 1;  // clients refused, dropped, or never connected
inline constexpr int kExitUsage = 2;    // bad options or unreachable setup
inline constexpr int kExitLoss = 3;     // QoS >= 1 message lost or duplicated

// Largest number of clients one worker handles: the open-file cap minus a margin.
unsigned clients_per_process_cap();

struct RunSetup {
  sockaddr_in server{};
  SourceAddresses sources;
  unsigned procs = 1;
  // Set with --tls: made before the workers fork, so each process has exactly one.
  std::shared_ptr<const TlsClientContext> tls;
};

// procs: from --procs, or the fewest that keep each worker under the open-file cap.
// Prints the reason and returns nullopt on bad options.
std::optional<RunSetup> prepare_run(const Options& o, std::uint64_t total_clients,
                                    unsigned min_procs = 1);

// Even split of `total` units over `procs` workers (the first ones take the remainder).
std::uint64_t share_of(std::uint64_t total, unsigned procs, unsigned w);

// Runs `Scenario` (constructed as Scenario(options, context, clients, setup)) for o.pairs
// pairs of clients over the worker processes; a pair never straddles two workers. Returns
// the pool's result and the number of workers, or nothing when the options are unusable.
template <typename Scenario>
std::optional<std::pair<PoolResult, unsigned>> run_pairs(const Options& o) {
  const std::uint64_t clients = 2ull * o.pairs;
  auto setup = prepare_run(o, clients);
  if (!setup) return std::nullopt;
  const unsigned procs = std::min<unsigned>(setup->procs, std::max(1u, o.pairs));
  auto split = [&](unsigned w) { return 2 * share_of(o.pairs, procs, w); };
  auto work = [&](const WorkerContext& ctx, std::uint64_t n) {
    Scenario s(o, ctx, static_cast<std::uint32_t>(n), *setup);
    return s.run();
  };
  return std::pair{
      run_workers(procs, split, work, run_bound_seconds(o, static_cast<unsigned>(clients))), procs};
}

// Adds the connection figures; returns kExitClients when any client failed or a worker died.
int add_connection_figures(Report& r, const PoolResult& res);

// Prints the report as text or JSON.
void print_report(const Report& r, const Options& o);

// The common end of every scenario: adds the loss and duplicate counts and the latency
// histogram (named `latency_name`), prints the report, and returns the exit code: `rc`, or
// kExitLoss when a QoS 1/2 message was lost or duplicated.
int finish_report(Report& r, const Options& o, const Tally& t, int rc,
                  const char* latency_name = "latency", const char* duplicates_name = "duplicates");

}  // namespace shardmq::loadgen
