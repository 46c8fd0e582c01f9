// pingtest: N pairs bounce one message: A publishes to B's topic, B echoes the payload
// (with A's send time in it) to A's topic, A records the round trip and sends again.
#include <fmt/format.h>

#include <cstring>

#include "loadgen/clock.hpp"
#include "loadgen/scenario_base.hpp"
#include "loadgen/scenario_driver.hpp"
#include "loadgen/scenarios.hpp"

namespace shardmq::loadgen {

namespace {

class PingTest final : public ScenarioBase {
 public:
  PingTest(const Options& o, const WorkerContext& ctx, std::uint32_t clients, const RunSetup& setup)
      : ScenarioBase(o, ctx, clients, setup), pairs_(clients / 2) {
    to_a_.resize(pairs_);
    to_b_.resize(pairs_);
    outstanding_.resize(pairs_, 0);
    seq_.resize(pairs_, 0);
    for (std::uint32_t k = 0; k < pairs_; ++k) {
      auto g = ctx.first_client / 2 + k;
      to_a_[k] = fmt::format("lg/{}/ping/{}/a", ctx.run_id, g);
      to_b_[k] = fmt::format("lg/{}/ping/{}/b", ctx.run_id, g);
      sub_topic_[2 * k] = to_a_[k];
      sub_topic_[2 * k + 1] = to_b_[k];
    }
  }

 private:
  void begin_measure(std::uint64_t) override {
    for (std::uint32_t k = 0; k < pairs_; ++k)
      serve(k);
  }
  void serve(std::uint32_t k) {
    if (!measuring() || outstanding_[k] || !active(2 * k) || !active(2 * k + 1)) return;
    publish(2 * k, to_b_[k], seq_[k]++);
    outstanding_[k] = 1;
  }
  void on_publish(std::uint32_t i, const core::Publish& p) override {
    std::uint32_t k = i / 2;
    if (i % 2 == 1) {  // B: echo as is
      MqttClient& b = loop_.client(i);
      std::uint16_t id = qos_ == core::QoS::AtMostOnce ? 0 : b.next_packet_id();
      auto room = b.queue_publish(to_a_[k], qos_, id, p.payload.size());
      std::memcpy(room.data(), p.payload.data(), p.payload.size());
      loop_.mark_dirty(i);
      return;
    }
    if (p.payload.size() < kPayloadHeader) return;
    std::uint64_t seq, ts;
    std::memcpy(&seq, p.payload.data(), 8);
    std::memcpy(&ts, p.payload.data() + 8, 8);
    if (seq + 1 != seq_[k]) {
      ++tally_.duplicates;  // not the message we are waiting for
      return;
    }
    outstanding_[k] = 0;
    ++tally_.received_total;
    std::uint64_t now = now_ns();
    if (measuring()) {
      ++tally_.received;
      tally_.received_bytes += p.payload.size();
      tally_.latency_ns.record(now - ts);
    }
    serve(k);
  }
  void on_ack(std::uint32_t i, std::uint16_t) override {
    if (i % 2 == 0) ++tally_.acked;
  }
  bool drained() const override {
    for (auto o : outstanding_) {
      if (o) return false;
    }
    return true;
  }
  void finish() override {
    for (auto o : outstanding_)
      tally_.lost += o;
  }

  std::uint32_t pairs_;
  std::vector<std::string> to_a_, to_b_;
  std::vector<std::uint8_t> outstanding_;
  std::vector<std::uint64_t> seq_;
};

}  // namespace

int run_pingtest(const Options& o) {
  auto run = run_pairs<PingTest>(o);
  if (!run) return kExitUsage;
  const auto& [res, procs] = *run;
  const Tally& t = res.tally;

  Report r(fmt::format("pingtest qos={} size={} pairs={} procs={}", o.qos, o.size, o.pairs, procs));
  int rc = add_connection_figures(r, res);
  const double secs = t.measured_seconds > 0 ? t.measured_seconds : 1;
  r.add_int("round_trips", t.received);
  r.add("round_trips_per_s", static_cast<double>(t.received) / secs, "rt/s");
  r.add_int("routed_total", 2 * t.received_total);
  return finish_report(r, o, t, rc, "rtt", "unexpected");
}

}  // namespace shardmq::loadgen
