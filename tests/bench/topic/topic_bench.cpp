// Topic matching at broker scale: 1M subscriptions (mostly exact filters like
// device/<n>/telemetry, some `+` and `#`), and a retained tree of 1M topics
// matched with narrow filters; and bytes per subscription for the broker's most
// common shape (one client, one exact topic). Run from a release build.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/retained_tree.hpp"
#include "core/shard_interest.hpp"
#include "core/topic_index.hpp"

using shardmq::core::RetainedTree;
using shardmq::core::ShardInterest;
using shardmq::core::TopicIndex;

namespace {

constexpr std::uint32_t kSubs = 1'000'000;
constexpr std::size_t kProbe = 4096;  // distinct topics cycled through per benchmark

// 94% device/<n>/telemetry, 3% device/<n>/+, 2% device/<n>/#, 1% +/<n>/telemetry.
std::string filter_for(std::uint32_t n) {
  const std::string id = std::to_string(n);
  switch (n % 100) {
    case 0:
    case 1:
    case 2:
      return "device/" + id + "/+";
    case 3:
    case 4:
      return "device/" + id + "/#";
    case 5:
      return "+/" + id + "/telemetry";
    default:
      return "device/" + id + "/telemetry";
  }
}

std::vector<std::string> all_filters() {
  std::vector<std::string> out;
  out.reserve(kSubs);
  for (std::uint32_t n = 0; n < kSubs; ++n)
    out.push_back(filter_for(n));
  return out;
}

const TopicIndex<std::uint32_t, std::uint32_t>& million_subs() {
  static const auto* idx = [] {
    auto* i = new TopicIndex<std::uint32_t, std::uint32_t>();
    std::uint32_t n = 0;
    for (const std::string& f : all_filters())
      i->insert(f, n, n), ++n;
    return i;
  }();
  return *idx;
}

std::vector<std::string> probes(std::uint32_t offset) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kProbe; ++i) {
    const std::uint32_t n = static_cast<std::uint32_t>((i * 2654435761u) % kSubs) + offset;
    out.push_back("device/" + std::to_string(n) + "/telemetry");
  }
  return out;
}

void match_loop(benchmark::State& state, const std::vector<std::string>& topics) {
  const auto& idx = million_subs();
  std::size_t i = 0, hits = 0;
  for (auto _ : state) {
    idx.match(topics[i++ % kProbe], [&](std::uint32_t, std::uint32_t) { ++hits; });
    benchmark::DoNotOptimize(hits);
  }
  state.counters["hits_per_match"] =
      static_cast<double>(hits) / static_cast<double>(state.iterations());
  state.counters["bytes_per_sub"] =
      static_cast<double>(idx.memory_bytes()) / static_cast<double>(idx.size());
}

// Hands free heap pages back to the OS (glibc), so RSS growth measured next is
// the index's own and not refilled holes left by an earlier benchmark. A fixed
// mmap threshold keeps large buffers (vectors left behind when one grows) out
// of the heap, as jemalloc does in the broker.
void trim_heap() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  malloc_trim(0);
#endif
}

// Resident set size from /proc/self/statm, in bytes (0 if unreadable).
std::size_t rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int got = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return got == 2 ? resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

// The broker's shapes: key = session pointer, value = SubscriptionOptions (8 bytes).
struct Options {
  std::uint8_t max_qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  std::uint32_t identifier = 0;
};

// One client per exact topic `load/<n>` (the broker's "many" benchmark): bytes per
// subscription from memory_bytes() and from RSS growth while inserting 1M of them.
void BM_MemoryExact1M(benchmark::State& state) {
  std::vector<std::string> filters;
  filters.reserve(kSubs);
  for (std::uint32_t n = 0; n < kSubs; ++n)
    filters.push_back("load/" + std::to_string(n));
  for (auto _ : state) {
    trim_heap();
    const std::size_t before = rss_bytes();
    {
      TopicIndex<std::uintptr_t, Options> idx;
      std::uintptr_t key = 0x10000;
      for (const std::string& f : filters)
        idx.insert(f, key += 64, Options{});
      const std::size_t after = rss_bytes();
      state.counters["bytes_per_sub"] =
          static_cast<double>(idx.memory_bytes()) / static_cast<double>(idx.size());
      state.counters["rss_per_sub"] =
          static_cast<double>(after - before) / static_cast<double>(idx.size());
    }
  }
}

// The same 1M filters in one ShardInterest, spread over 8 shards.
void BM_MemoryShardInterest1M(benchmark::State& state) {
  std::vector<std::string> filters;
  filters.reserve(kSubs);
  for (std::uint32_t n = 0; n < kSubs; ++n)
    filters.push_back("load/" + std::to_string(n));
  for (auto _ : state) {
    trim_heap();
    const std::size_t before = rss_bytes();
    {
      ShardInterest interest;
      unsigned shard = 0;
      for (const std::string& f : filters)
        interest.add(f, shard++ % 8);
      const std::size_t after = rss_bytes();
      state.counters["bytes_per_filter"] =
          static_cast<double>(interest.memory_bytes()) / static_cast<double>(interest.size());
      state.counters["rss_per_filter"] =
          static_cast<double>(after - before) / static_cast<double>(interest.size());
    }
  }
}

// RSS growth of the benchmark's mixed 1M index (device/<n>/telemetry: two nodes each).
void BM_MemoryMixed1M(benchmark::State& state) {
  const std::vector<std::string> filters = all_filters();
  for (auto _ : state) {
    trim_heap();
    const std::size_t before = rss_bytes();
    {
      TopicIndex<std::uint32_t, std::uint32_t> idx;
      std::uint32_t n = 0;
      for (const std::string& f : filters)
        idx.insert(f, n, n), ++n;
      const std::size_t after = rss_bytes();
      state.counters["bytes_per_sub"] =
          static_cast<double>(idx.memory_bytes()) / static_cast<double>(idx.size());
      state.counters["rss_per_sub"] =
          static_cast<double>(after - before) / static_cast<double>(idx.size());
    }
  }
}

// ShardInterest lookup on the same mixed 1M filters (one shard each of 8).
void BM_ShardInterestMatch(benchmark::State& state) {
  static const auto* interest = [] {
    auto* s = new ShardInterest();
    unsigned shard = 0;
    for (const std::string& f : all_filters())
      s->add(f, shard++ % 8);
    return s;
  }();
  const std::vector<std::string> topics = probes(0);
  std::size_t i = 0;
  std::uint64_t acc = 0;
  for (auto _ : state) {
    acc |= interest->match_mask(topics[i++ % kProbe]);
    benchmark::DoNotOptimize(acc);
  }
}

void BM_MatchHit(benchmark::State& state) {
  match_loop(state, probes(0));
}
void BM_MatchMiss(benchmark::State& state) {
  match_loop(state, probes(kSubs));
}

// Cost of building the 1M-subscription index, per insert.
void BM_Insert1M(benchmark::State& state) {
  const std::vector<std::string> filters = all_filters();
  for (auto _ : state) {
    TopicIndex<std::uint32_t, std::uint32_t> idx;
    std::uint32_t n = 0;
    for (const std::string& f : filters)
      idx.insert(f, n, n), ++n;
    benchmark::DoNotOptimize(idx.size());
    state.PauseTiming();  // leave destruction out
    idx.clear();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kSubs);
}

// Subscribe/unsubscribe churn on the full index: one erase + one insert.
void BM_EraseInsert(benchmark::State& state) {
  auto& idx = const_cast<TopicIndex<std::uint32_t, std::uint32_t>&>(million_subs());
  static const std::vector<std::string> filters = all_filters();
  std::uint32_t n = 0;
  for (auto _ : state) {
    const std::uint32_t k = (n++ * 2654435761u) % kSubs;
    const std::string& f = filters[k];
    benchmark::DoNotOptimize(idx.erase(f, k));
    benchmark::DoNotOptimize(idx.insert(f, k, k));
  }
}

const RetainedTree<std::uint32_t>& million_retained() {
  static auto* tree = [] {
    auto* t = new RetainedTree<std::uint32_t>();
    for (std::uint32_t n = 0; n < kSubs; ++n) {
      t->set("device/" + std::to_string(n) + (n % 2 ? "/telemetry" : "/status"), n);
    }
    return t;
  }();
  return *tree;
}

void retained_loop(benchmark::State& state, const char* prefix, const char* suffix) {
  auto& tree = const_cast<RetainedTree<std::uint32_t>&>(million_retained());
  std::vector<std::string> filters;
  for (std::size_t i = 0; i < kProbe; ++i) {
    filters.push_back(prefix + std::to_string((i * 2654435761u) % kSubs) + suffix);
  }
  std::size_t i = 0, hits = 0;
  for (auto _ : state) {
    tree.match(filters[i++ % kProbe], [&](std::string_view, std::uint32_t) {
      ++hits;
      return true;
    });
    benchmark::DoNotOptimize(hits);
  }
  state.counters["hits_per_match"] =
      static_cast<double>(hits) / static_cast<double>(state.iterations());
}

void BM_RetainedNarrowPlus(benchmark::State& state) {
  retained_loop(state, "device/", "/+");
}
void BM_RetainedNarrowHash(benchmark::State& state) {
  retained_loop(state, "device/", "/#");
}
void BM_RetainedExact(benchmark::State& state) {
  retained_loop(state, "device/", "/telemetry");
}

}  // namespace

// Memory first, while the heap is fresh, so RSS growth is the index's own.
BENCHMARK(BM_MemoryExact1M)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_MemoryShardInterest1M)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_MemoryMixed1M)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_MatchHit);
BENCHMARK(BM_MatchMiss);
BENCHMARK(BM_Insert1M)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_EraseInsert);
BENCHMARK(BM_ShardInterestMatch);
BENCHMARK(BM_RetainedNarrowPlus);
BENCHMARK(BM_RetainedNarrowHash);
BENCHMARK(BM_RetainedExact);

BENCHMARK_MAIN();
