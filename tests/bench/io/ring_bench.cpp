// SPSC ring throughput between two pinned threads, and slab allocate/free cost.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

#include "io/slab.hpp"
#include "io/spsc_ring.hpp"

namespace {

using shardmq::io::SlabAllocator;
using shardmq::io::SpscRing;

void pin(int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core % std::thread::hardware_concurrency(), &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

struct Item {
  std::uint64_t seq;
  void* ptr;  // the broker's envelopes are about this size
};

constexpr std::uint64_t kPerIteration = 1 << 20;

// The benchmark thread (core 0) consumes; a producer thread pinned to core 1 pushes.
void BM_SpscSingle(benchmark::State& state) {
  pin(0);
  SpscRing<Item> ring(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    std::thread prod([&] {
      pin(1);
      for (std::uint64_t i = 0; i < kPerIteration;)
        if (ring.try_push(Item{i, nullptr})) ++i;
    });
    Item it;
    std::uint64_t sum = 0;
    for (std::uint64_t got = 0; got < kPerIteration;)
      if (ring.try_pop(it)) sum += it.seq, ++got;
    prod.join();
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPerIteration));
}
BENCHMARK(BM_SpscSingle)->Arg(1024)->Arg(65536)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_SpscBatch(benchmark::State& state) {
  pin(0);
  SpscRing<Item> ring(1024);
  const std::size_t batch = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    std::thread prod([&] {
      pin(1);
      std::vector<Item> buf(batch);
      for (std::uint64_t i = 0; i < kPerIteration;) {
        const std::size_t n = std::min<std::uint64_t>(batch, kPerIteration - i);
        for (std::size_t k = 0; k < n; ++k)
          buf[k] = Item{i + k, nullptr};
        std::size_t done = 0;
        while (done < n)
          done += ring.push(buf.data() + done, n - done);
        i += n;
      }
    });
    std::uint64_t sum = 0, got = 0;
    while (got < kPerIteration)
      got += ring.drain([&](Item& it) { sum += it.seq; }, batch);
    prod.join();
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPerIteration));
}
BENCHMARK(BM_SpscBatch)->Arg(16)->Arg(64)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_SlabAllocFree(benchmark::State& state) {
  SlabAllocator slab(256);
  std::vector<void*> live(64);
  for (auto _ : state) {
    for (auto& p : live)
      p = slab.allocate();
    for (auto* p : live)
      slab.deallocate(p);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * live.size()));
}
BENCHMARK(BM_SlabAllocFree);

void BM_MallocFree(benchmark::State& state) {
  std::vector<void*> live(64);
  for (auto _ : state) {
    for (auto& p : live)
      p = std::malloc(256);
    for (auto* p : live)
      std::free(p);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * live.size()));
}
BENCHMARK(BM_MallocFree);

}  // namespace

BENCHMARK_MAIN();
