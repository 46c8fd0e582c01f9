#include "loadgen/scenario_base.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "loadgen/clock.hpp"
#include "loadgen/progress.hpp"

namespace shardmq::loadgen {

namespace {
// Handshakes in progress at once: keeps SYN bursts under the broker's listen backlog.
constexpr std::uint32_t kMaxPendingConnects = 1024;
constexpr int kIdleWaitMs = 1;
}  // namespace

ScenarioBase::ScenarioBase(const Options& o, const WorkerContext& ctx, std::uint32_t clients,
                           const RunSetup& setup)
    : opt_(o),
      ctx_(ctx),
      qos_(static_cast<core::QoS>(o.qos)),
      sub_topic_(clients),
      loop_(clients, *this, setup.server, setup.tls.get()),
      sources_(setup.sources),
      ever_active_(clients, 0),
      progress_(o.progress, ctx_) {
  tally_.clients = clients;
}

Tally ScenarioBase::run() {
  setup_start_ = now_ns();
  const double setup_bound = setup_bound_seconds(opt_, loop_.size() * ctx_.procs);
  const std::uint64_t setup_deadline =
      setup_start_ + static_cast<std::uint64_t>(setup_bound * kNsPerSec);
  // Setup: connect and subscribe everything (or give up at the deadline).
  while (ready_ + failed_ < loop_.size()) {
    std::uint64_t now = now_ns();
    if (now >= setup_deadline) break;
    ramp(now);
    progress_.setup(now, setup_start_);
    loop_.run_once(kIdleWaitMs);
  }
  tally_.setup_seconds = static_cast<double>(now_ns() - setup_start_) / kNsPerSec;
  tally_.pss_kib = own_pss_kib();
  tally_.setup_cpu_seconds = own_cpu_seconds();

  // Barrier: the last worker to arrive starts everyone's window.
  phase_ = Phase::Barrier;
  SharedState& sh = *ctx_.shared;
  if (sh.ready.fetch_add(1) + 1 == ctx_.procs) sh.start_ns.store(now_ns());
  for (std::uint64_t now = now_ns(); sh.start_ns.load() == 0 && now < setup_deadline;
       now = now_ns()) {
    progress_.setup(now, setup_start_);
    loop_.run_once(kIdleWaitMs);
  }
  std::uint64_t start = sh.start_ns.load();
  if (start == 0) start = now_ns();
  progress_.window_started(setup_start_);

  // Measured window.
  phase_ = Phase::Measure;
  window_start_ = start;
  begin_measure(now_ns());
  const std::uint64_t end = start + static_cast<std::uint64_t>(opt_.seconds * kNsPerSec);
  for (std::uint64_t now = now_ns(); now < end; now = now_ns()) {
    tick(now);
    keep_alive(now);
    loop_.run_once(kIdleWaitMs);
  }
  tally_.measured_seconds = static_cast<double>(now_ns() - start) / kNsPerSec;
  progress_.window_ended();

  // Drain: no new publishes; wait for what is in flight.
  phase_ = Phase::Drain;
  const std::uint64_t drain_start = now_ns();
  const std::uint64_t drain_end = drain_start + static_cast<std::uint64_t>(opt_.drain * kNsPerSec);
  for (std::uint64_t now = now_ns(); now < drain_end && !drained(); now = now_ns()) {
    tick(now);
    loop_.run_once(kIdleWaitMs);
  }
  finish();
  disconnect_all();
  // Closing a million sockets takes a while (the broker's side of each close too): the
  // result goes to the parent first, so a slow close cannot cost it.
  deliver_result(ctx_, tally_);
  close_all();
  progress_.closed(drain_start);
  return tally_;
}

void ScenarioBase::ramp(std::uint64_t now) {
  const double per_worker = opt_.connect_rate / std::max(1u, ctx_.procs);
  const double elapsed = static_cast<double>(now - setup_start_) / kNsPerSec;
  auto allowed = static_cast<std::uint64_t>(per_worker * elapsed) + 1;
  while (opened_ < loop_.size() && opened_ < allowed &&
         opened_ - ready_ - failed_ < kMaxPendingConnects) {
    std::uint32_t i = opened_++;
    loop_.open(i, sources_.for_client(ctx_.first_client + i));
  }
}

void ScenarioBase::keep_alive(std::uint64_t now) {
  if (opt_.keep_alive == 0 || now - last_keepalive_scan_ < kNsPerSec) return;
  last_keepalive_scan_ = now;
  const std::uint64_t idle = opt_.keep_alive * kNsPerSec / 2;
  for (std::uint32_t i = 0; i < loop_.size(); ++i) {
    MqttClient& c = loop_.client(i);
    if (c.state == ClientState::Active && now - c.last_send_ns > idle) {
      c.queue_pingreq();
      loop_.mark_dirty(i);
    }
  }
}

void ScenarioBase::on_tcp_connected(std::uint32_t i) {
  id_scratch_ = fmt::format("lg{}-{}", ctx_.run_id, ctx_.first_client + i);
  MqttClient& c = loop_.client(i);
  c.queue_connect(id_scratch_, opt_.keep_alive, !opt_.persistent);
  // A client may send before its CONNACK (MQTT 3.1.1 3.1.4): the SUBSCRIBE rides in the
  // CONNECT's segment, a round trip and a write and a read fewer per client at set-up.
  if (!sub_topic_[i].empty()) c.queue_subscribe(sub_topic_[i], qos_);
}

void ScenarioBase::on_connack(std::uint32_t i) {
  ever_active_[i] = 1;
  if (sub_topic_[i].empty()) set_ready(i);  // else ready at its SUBACK
}

void ScenarioBase::on_suback(std::uint32_t i) {
  set_ready(i);
}

void ScenarioBase::set_ready(std::uint32_t i) {
  ctx_.shared->connected.fetch_add(1, std::memory_order_relaxed);
  ++ready_;
  ++tally_.connected;
  on_ready(i);
}

void ScenarioBase::on_closed(std::uint32_t i, CloseReason why) {
  if (phase_ == Phase::Done) return;
  bool was_ready = ever_active_[i] && (sub_topic_[i].empty() || loop_.client(i).subscribed);
  if (why == CloseReason::Refused) {
    ++tally_.refused;
  } else if (ever_active_[i]) {
    ++tally_.dropped;
  } else {
    ++tally_.connect_failed;
  }
  if (!was_ready) {
    ++failed_;
    ctx_.shared->failed.fetch_add(1, std::memory_order_relaxed);
  }
}

std::uint16_t ScenarioBase::publish(std::uint32_t i, std::string_view topic, std::uint64_t seq) {
  MqttClient& c = loop_.client(i);
  std::uint16_t id = qos_ == core::QoS::AtMostOnce ? 0 : c.next_packet_id();
  auto payload = c.queue_publish(topic, qos_, id, opt_.size);
  std::uint64_t ts = now_ns();
  std::memcpy(payload.data(), &seq, 8);
  std::memcpy(payload.data() + 8, &ts, 8);
  loop_.mark_dirty(i);
  ++tally_.sent_total;
  if (measuring()) ++tally_.sent;
  return id;
}

void ScenarioBase::track(SeqTrack& t, const core::Publish& p, std::uint64_t now) {
  if (p.payload.size() < kPayloadHeader) return;
  std::uint64_t seq, ts;
  std::memcpy(&seq, p.payload.data(), 8);
  std::memcpy(&ts, p.payload.data() + 8, 8);
  if (measuring()) {
    ++tally_.received;
    tally_.received_bytes += p.payload.size();
    if (now >= ts) tally_.latency_ns.record(now - ts);
  }
  if (seq == t.expected) {
    ++t.expected;
    ++tally_.received_total;
  } else if (seq > t.expected) {
    tally_.lost += seq - t.expected;  // a gap: delivery is in order per publisher
    t.expected = seq + 1;
    ++tally_.received_total;
  } else {
    ++tally_.duplicates;  // seen before (or reordered after a gap; see README)
  }
}

void ScenarioBase::account_tail(const SeqTrack& t, std::uint64_t acked_by_publisher) {
  if (acked_by_publisher > t.expected) tally_.lost += acked_by_publisher - t.expected;
}

void ScenarioBase::disconnect_all() {
  for (std::uint32_t i = 0; i < loop_.size(); ++i) {
    MqttClient& c = loop_.client(i);
    if (c.state == ClientState::Active) {
      ++tally_.held_at_end;
      c.queue_disconnect();
      loop_.mark_dirty(i);
    }
  }
  loop_.run_once(0);  // writes the DISCONNECTs (best effort: full sockets just close)
  phase_ = Phase::Done;
}

void ScenarioBase::close_all() {
  for (std::uint32_t i = 0; i < loop_.size(); ++i)
    loop_.close(i, CloseReason::Local);
}

}  // namespace shardmq::loadgen
