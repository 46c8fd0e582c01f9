// Codec micro-benchmarks: PUBLISH (16-byte topic, 64-byte payload, QoS 0) decode and
// encode at 3.1.1 and 5.0, the broker's publish-header path, and CONNECT. Global
// operator new is counted so the decode path's allocations show as a counter (must be 0).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "core/decoder.hpp"
#include "core/encoder.hpp"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using namespace shardmq::core;

const std::string kTopic = "sensors/room/042";  // 16 bytes
const std::string kPayload(64, 'x');

Publish make_publish() {
  Publish p;
  p.topic = kTopic;
  p.payload = as_bytes(kPayload);
  return p;
}

std::vector<std::byte> encode_vec(const Packet& p, ProtocolVersion v) {
  std::vector<std::byte> out(encoded_size(p, v));
  (void)encode(p, v, out);
  return out;
}

void decode_bench(benchmark::State& state, const std::vector<std::byte>& wire, ProtocolVersion v) {
  DecodeOptions o;
  o.version = v;
  Decoded d;
  std::uint64_t before = g_allocations.load();
  for (auto _ : state) {
    DecodeError e = decode_packet_into(wire, o, d);
    benchmark::DoNotOptimize(e);
    benchmark::DoNotOptimize(d.consumed);
  }
  state.counters["allocs_per_decode"] = benchmark::Counter(
      static_cast<double>(g_allocations.load() - before) / static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
}

void BM_DecodePublish311(benchmark::State& state) {
  decode_bench(state, encode_vec(make_publish(), ProtocolVersion::v311), ProtocolVersion::v311);
}
void BM_DecodePublish5(benchmark::State& state) {
  decode_bench(state, encode_vec(make_publish(), ProtocolVersion::v5), ProtocolVersion::v5);
}

void BM_DecodeConnect311(benchmark::State& state) {
  Connect c;
  c.client_id = "bench-client-0001";
  c.username = "user";
  c.password = as_bytes("secret");
  decode_bench(state, encode_vec(c, ProtocolVersion::v311), ProtocolVersion::v311);
}
void BM_DecodeConnect5(benchmark::State& state) {
  Connect c;
  c.version = ProtocolVersion::v5;
  c.client_id = "bench-client-0001";
  c.username = "user";
  c.password = as_bytes("secret");
  c.properties.session_expiry_interval = 3600;
  c.properties.receive_maximum = 100;
  decode_bench(state, encode_vec(c, ProtocolVersion::v5), ProtocolVersion::v5);
}

void encode_bench(benchmark::State& state, const Packet& p, ProtocolVersion v) {
  std::vector<std::byte> out(256);
  for (auto _ : state) {
    auto n = encode(p, v, out);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_EncodePublish311(benchmark::State& state) {
  encode_bench(state, make_publish(), ProtocolVersion::v311);
}
void BM_EncodePublish5(benchmark::State& state) {
  encode_bench(state, make_publish(), ProtocolVersion::v5);
}
void BM_EncodeConnect311(benchmark::State& state) {
  Connect c;
  c.client_id = "bench-client-0001";
  c.username = "user";
  c.password = as_bytes("secret");
  encode_bench(state, c, ProtocolVersion::v311);
}

void BM_EncodePublishHeader5(benchmark::State& state) {
  PublishHeader h;
  h.topic = kTopic;
  h.qos = QoS::AtLeastOnce;
  h.packet_id = 17;
  std::byte out[64];
  for (auto _ : state) {
    auto n = encode_publish_header(h, kPayload.size(), ProtocolVersion::v5, out);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_DecodePublish311);
BENCHMARK(BM_DecodePublish5);
BENCHMARK(BM_DecodeConnect311);
BENCHMARK(BM_DecodeConnect5);
BENCHMARK(BM_EncodePublish311);
BENCHMARK(BM_EncodePublish5);
BENCHMARK(BM_EncodeConnect311);
BENCHMARK(BM_EncodePublishHeader5);

BENCHMARK_MAIN();
