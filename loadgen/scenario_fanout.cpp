// fanout: one publisher (worker 0's client 0), N subscribers on one topic spread over the
// workers. The publisher keeps at most --inflight messages not yet delivered to every
// subscriber (counted through shared memory), or publishes at --rate when given.
#include <fmt/format.h>

#include "loadgen/clock.hpp"
#include "loadgen/scenario_base.hpp"
#include "loadgen/scenario_driver.hpp"
#include "loadgen/scenarios.hpp"

namespace shardmq::loadgen {

namespace {

class FanOut final : public ScenarioBase {
 public:
  FanOut(const Options& o, const WorkerContext& ctx, std::uint32_t clients, const RunSetup& setup)
      : ScenarioBase(o, ctx, clients, setup),
        has_publisher_(ctx.index == 0),
        topic_(fmt::format("lg/{}/fan", ctx.run_id)),
        track_(clients) {
    for (std::uint32_t i = has_publisher_ ? 1 : 0; i < clients; ++i)
      sub_topic_[i] = topic_;
  }

 private:
  SharedState& sh() { return *ctx_.shared; }
  const SharedState& sh() const { return *ctx_.shared; }

  void tick(std::uint64_t now) override {
    if (delivered_ != reported_) {  // one shared-memory add per loop iteration, not per message
      sh().delivered.fetch_add(delivered_ - reported_, std::memory_order_relaxed);
      reported_ = delivered_;
    }
    if (!has_publisher_) return;
    if (!measuring()) {
      sh().publisher_done.store(1);
      return;
    }
    if (!active(0)) return;
    const std::uint64_t subs = std::max<std::uint64_t>(1, opt_.subscribers);
    std::uint64_t limit = UINT64_MAX;
    if (opt_.rate > 0) {
      limit = static_cast<std::uint64_t>(opt_.rate * static_cast<double>(now - window_start_) /
                                         kNsPerSec) +
              1;
    }
    for (int burst = 0; burst < 64 && seq_ < limit; ++burst) {
      std::uint64_t delivered = sh().delivered.load(std::memory_order_relaxed) / subs;
      if (seq_ - std::min(seq_, delivered) >= opt_.inflight) break;
      if (qos_ != core::QoS::AtMostOnce && inflight_ >= opt_.inflight) break;
      publish(0, topic_, seq_++);
      if (qos_ != core::QoS::AtMostOnce) ++inflight_;
      sh().published.store(seq_, std::memory_order_relaxed);
    }
  }
  void on_ack(std::uint32_t i, std::uint16_t) override {
    if (!has_publisher_ || i != 0) return;
    if (inflight_) --inflight_;
    ++tally_.acked;
    sh().acked.fetch_add(1, std::memory_order_relaxed);
  }
  void on_publish(std::uint32_t i, const core::Publish& p) override {
    track(track_[i], p, now_ns());
    ++delivered_;
  }
  bool drained() const override {
    if (!sh().publisher_done.load()) return false;
    std::uint64_t published = sh().published.load();
    for (std::uint32_t i = has_publisher_ ? 1 : 0; i < loop_size(); ++i) {
      if (track_[i].expected < published) return false;
    }
    return true;
  }
  void finish() override {
    std::uint64_t published = sh().published.load();
    std::uint64_t acked = sh().acked.load();
    for (std::uint32_t i = has_publisher_ ? 1 : 0; i < loop_size(); ++i) {
      if (qos_ == core::QoS::AtMostOnce) {
        tally_.lost += published - std::min(published, track_[i].expected);
      } else {
        account_tail(track_[i], acked);
      }
    }
  }
  std::uint32_t loop_size() const { return static_cast<std::uint32_t>(track_.size()); }

  bool has_publisher_;
  std::string topic_;
  std::vector<SeqTrack> track_;
  std::uint64_t seq_ = 0;
  std::uint32_t inflight_ = 0;
  std::uint64_t delivered_ = 0, reported_ = 0;
};

}  // namespace

int run_fanout(const Options& o) {
  const std::uint64_t clients = o.subscribers + 1ull;
  auto setup = prepare_run(o, clients);
  if (!setup) return kExitUsage;
  const unsigned procs = setup->procs;
  auto split = [&](unsigned w) { return share_of(o.subscribers, procs, w) + (w == 0 ? 1 : 0); };
  auto work = [&](const WorkerContext& ctx, std::uint64_t n) {
    FanOut s(o, ctx, static_cast<std::uint32_t>(n), *setup);
    return s.run();
  };
  PoolResult res =
      run_workers(procs, split, work, run_bound_seconds(o, static_cast<unsigned>(clients)));
  const Tally& t = res.tally;

  Report r(fmt::format("fanout qos={} size={} subscribers={} procs={}", o.qos, o.size,
                       o.subscribers, procs));
  int rc = add_connection_figures(r, res);
  const double secs = t.measured_seconds > 0 ? t.measured_seconds : 1;
  r.add_int("published", t.sent);
  r.add("publishes_per_s", static_cast<double>(t.sent) / secs, "msg/s");
  r.add_int("deliveries", t.received);
  r.add("deliveries_per_s", static_cast<double>(t.received) / secs, "msg/s");
  r.add("bytes_per_s", static_cast<double>(t.received_bytes) / secs, "B/s");
  r.add_int("routed_total", t.received_total);
  return finish_report(r, o, t, rc);
}

}  // namespace shardmq::loadgen
