// loadtest: N pairs; each publisher sends as fast as the broker accepts (QoS 0: at most
// --window unsent bytes per socket; QoS 1/2: at most --inflight unacknowledged), its
// partner receives and checks sequence numbers.
#include <fmt/format.h>

#include "loadgen/clock.hpp"
#include "loadgen/scenario_base.hpp"
#include "loadgen/scenario_driver.hpp"
#include "loadgen/scenarios.hpp"

namespace shardmq::loadgen {

namespace {

class LoadTest final : public ScenarioBase {
 public:
  LoadTest(const Options& o, const WorkerContext& ctx, std::uint32_t clients, const RunSetup& setup)
      : ScenarioBase(o, ctx, clients, setup),
        pairs_(clients / 2),
        e2e_(o.e2e_window < 0 ? o.inflight : static_cast<std::uint32_t>(o.e2e_window)) {
    topic_.resize(pairs_);
    track_.resize(pairs_);
    next_seq_.resize(pairs_, 0);
    inflight_.resize(pairs_, 0);
    acked_.resize(pairs_, 0);
    for (std::uint32_t k = 0; k < pairs_; ++k) {
      topic_[k] = fmt::format("lg/{}/load/{}", ctx.run_id, ctx.first_client / 2 + k);
      sub_topic_[2 * k + 1] = topic_[k];
      MqttClient& pub = loop_.client(2 * k);
      pub.wants_drain = true;
      pub.out.reserve_capacity(o.window + 2 * (o.size + topic_[k].size() + 16) +
                               (o.qos ? o.inflight * (o.size + topic_[k].size() + 16) : 0));
    }
  }

 private:
  void begin_measure(std::uint64_t) override {
    for (std::uint32_t k = 0; k < pairs_; ++k)
      fill(k);
  }
  // A publisher whose own buffer is empty gets no flush, hence no on_drain: poll it here so
  // it resumes once the kernel queue falls under the window.
  void tick(std::uint64_t) override {
    if (qos_ != core::QoS::AtMostOnce) return;
    for (std::uint32_t k = 0; k < pairs_; ++k) {
      const MqttClient& c = loop_.client(2 * k);
      if (c.out.pending() == 0 && !c.dirty) fill(k);
    }
  }
  void on_drain(std::uint32_t i) override {
    if (i % 2 == 0) fill(i / 2);
  }
  void on_ack(std::uint32_t i, std::uint16_t) override {
    if (i % 2 != 0) return;
    std::uint32_t k = i / 2;
    if (inflight_[k] > 0) --inflight_[k];
    ++acked_[k];
    ++tally_.acked;
    fill(k);
  }
  void on_publish(std::uint32_t i, const core::Publish& p) override {
    if (i % 2 == 1) {
      track(track_[i / 2], p, now_ns());
      if (e2e_) fill(i / 2);
    }
  }
  bool drained() const override {
    for (std::uint32_t k = 0; k < pairs_; ++k) {
      if (track_[k].expected < next_seq_[k]) return false;
    }
    return true;
  }
  void finish() override {
    for (std::uint32_t k = 0; k < pairs_; ++k) {
      if (qos_ == core::QoS::AtMostOnce) {
        tally_.lost += next_seq_[k] - std::min(next_seq_[k], track_[k].expected);
      } else {
        account_tail(track_[k], acked_[k]);
      }
    }
  }

  void fill(std::uint32_t k) {
    const std::uint32_t i = 2 * k;
    if (!measuring() || !active(i) || !active(i + 1)) return;
    MqttClient& c = loop_.client(i);
    if (qos_ == core::QoS::AtMostOnce) {
      std::size_t unsent = loop_.unsent(i);  // one ioctl per refill, not per message
      std::size_t before = c.out.pending();
      while (unsent + c.out.pending() - before < opt_.window)
        publish(i, topic_[k], next_seq_[k]++);
    } else {
      while (inflight_[k] < opt_.inflight &&
             (e2e_ == 0 || next_seq_[k] - std::min(next_seq_[k], track_[k].expected) < e2e_)) {
        publish(i, topic_[k], next_seq_[k]++);
        ++inflight_[k];
      }
    }
  }

  std::uint32_t pairs_;
  std::uint32_t e2e_;  // end-to-end window (0: off)
  std::vector<std::string> topic_;
  std::vector<SeqTrack> track_;
  std::vector<std::uint64_t> next_seq_;
  std::vector<std::uint32_t> inflight_;
  std::vector<std::uint64_t> acked_;
};

}  // namespace

int run_loadtest(const Options& o) {
  auto run = run_pairs<LoadTest>(o);
  if (!run) return kExitUsage;
  const auto& [res, procs] = *run;
  const Tally& t = res.tally;

  Report r(fmt::format("loadtest qos={} size={} pairs={} procs={}", o.qos, o.size, o.pairs, procs));
  int rc = add_connection_figures(r, res);
  const double secs = t.measured_seconds > 0 ? t.measured_seconds : 1;
  r.add_int("sent", t.sent);
  r.add_int("received", t.received);
  r.add("msgs_per_s", static_cast<double>(t.received) / secs, "msg/s");
  r.add("bytes_per_s", static_cast<double>(t.received_bytes) / secs, "B/s");
  r.add("mib_per_s", static_cast<double>(t.received_bytes) / secs / (1024 * 1024), "MiB/s");
  r.add_int("sent_total", t.sent_total);
  r.add_int("acked_total", t.acked);
  r.add_int("received_total", t.received_total);
  r.add_int("routed_total", t.received_total);
  return finish_report(r, o, t, rc);
}

}  // namespace shardmq::loadgen
