// many: N clients ramped at --connect-rate; each subscribes to its own topic and publishes
// to it rarely, so all together send --rate messages/s and each gets its own back.
#include <fmt/format.h>

#include "loadgen/clock.hpp"
#include "loadgen/scenario_base.hpp"
#include "loadgen/scenario_driver.hpp"
#include "loadgen/scenarios.hpp"

namespace shardmq::loadgen {

namespace {

class Many final : public ScenarioBase {
 public:
  Many(const Options& o, const WorkerContext& ctx, std::uint32_t clients, const RunSetup& setup)
      : ScenarioBase(o, ctx, clients, setup),
        track_(clients),
        next_seq_(clients, 0),
        acked_(clients, 0) {
    for (std::uint32_t i = 0; i < clients; ++i) {
      sub_topic_[i] = fmt::format("lg/{}/many/{}", ctx.run_id, ctx.first_client + i);
    }
    rate_ = o.rate / std::max(1u, ctx.procs);
  }

 private:
  void tick(std::uint64_t now) override {
    if (!measuring() || track_.empty()) return;
    auto due =
        static_cast<std::uint64_t>(rate_ * static_cast<double>(now - window_start_) / kNsPerSec);
    const auto n = static_cast<std::uint32_t>(track_.size());
    // Round robin over connected clients; a full lap without one ends the attempt.
    for (std::uint32_t scanned = 0; sent_ < due && scanned < n; ++scanned) {
      std::uint32_t i = cursor_;
      cursor_ = (cursor_ + 1) % n;
      if (!active(i)) continue;
      publish(i, sub_topic_[i], next_seq_[i]++);
      ++sent_;
      scanned = 0;
    }
  }
  void on_ack(std::uint32_t i, std::uint16_t) override {
    ++acked_[i];
    ++tally_.acked;
  }
  void on_publish(std::uint32_t i, const core::Publish& p) override {
    track(track_[i], p, now_ns());
  }
  bool drained() const override {
    for (std::size_t i = 0; i < track_.size(); ++i) {
      if (track_[i].expected < next_seq_[i]) return false;
    }
    return true;
  }
  void finish() override {
    for (std::size_t i = 0; i < track_.size(); ++i) {
      if (qos_ == core::QoS::AtMostOnce) {
        tally_.lost += next_seq_[i] - std::min(next_seq_[i], track_[i].expected);
      } else {
        account_tail(track_[i], acked_[i]);
      }
    }
  }

  std::vector<SeqTrack> track_;
  std::vector<std::uint64_t> next_seq_;
  std::vector<std::uint64_t> acked_;
  double rate_ = 0;
  std::uint64_t sent_ = 0;
  std::uint32_t cursor_ = 0;
};

}  // namespace

int run_many(const Options& o) {
  const std::uint64_t clients = o.clients;
  auto setup = prepare_run(o, clients);
  if (!setup) return kExitUsage;
  const unsigned procs = setup->procs;
  auto split = [&](unsigned w) { return share_of(clients, procs, w); };
  auto work = [&](const WorkerContext& ctx, std::uint64_t n) {
    Many s(o, ctx, static_cast<std::uint32_t>(n), *setup);
    return s.run();
  };
  PoolResult res = run_workers(procs, split, work, run_bound_seconds(o, o.clients));
  const Tally& t = res.tally;

  Report r(fmt::format("many qos={} size={} clients={} procs={} sources={}", o.qos, o.size,
                       o.clients, procs, std::max<std::size_t>(1, setup->sources.count())));
  int rc = add_connection_figures(r, res);
  const double secs = t.measured_seconds > 0 ? t.measured_seconds : 1;
  r.add("connect_rate",
        t.setup_seconds > 0 ? static_cast<double>(t.connected) / t.setup_seconds : 0, "conn/s");
  r.add_int("sent", t.sent);
  r.add_int("received", t.received);
  r.add("sent_per_s", static_cast<double>(t.sent) / secs, "msg/s");
  r.add("received_per_s", static_cast<double>(t.received) / secs, "msg/s");
  r.add_int("routed_total", t.received_total);
  // The generator's own cost: every worker's Pss once its clients were set up.
  r.add("load_mib", static_cast<double>(t.pss_kib) / 1024, "MiB");
  r.add("load_setup_cpu_s", t.setup_cpu_seconds, "s");
  r.add("load_bytes_per_client",
        t.clients ? static_cast<double>(t.pss_kib) * 1024 / static_cast<double>(t.clients) : 0,
        "B");
  return finish_report(r, o, t, rc);
}

}  // namespace shardmq::loadgen
