// What every scenario shares: ramped connects (CONNECT, optional SUBSCRIBE), the barrier
// with the other workers, the measured window, the drain and the counting of failures.
// A scenario subclasses it, fills sub_topic_, and reacts to ready clients, deliveries and
// acks. Payloads carry [u64 sequence][u64 send time in ns][filler].
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/packets.hpp"
#include "loadgen/client_loop.hpp"
#include "loadgen/options.hpp"
#include "loadgen/progress.hpp"
#include "loadgen/scenario_driver.hpp"
#include "loadgen/source_addresses.hpp"
#include "loadgen/tally.hpp"
#include "loadgen/worker_pool.hpp"

namespace shardmq::loadgen {

inline constexpr std::size_t kPayloadHeader = 16;  // sequence + timestamp

class ScenarioBase : public LoopHandler {
 public:
  ScenarioBase(const Options& o, const WorkerContext& ctx, std::uint32_t clients,
               const RunSetup& setup);
  // Runs every phase; always returns within setup bound + seconds + drain (+ a little).
  Tally run();

 protected:
  enum class Phase : std::uint8_t { Setup, Barrier, Measure, Drain, Done };

  // Scenario hooks.
  virtual void on_ready(std::uint32_t /*i*/) {}  // connected (and subscribed, if asked)
  virtual void begin_measure(std::uint64_t /*now*/) {}
  virtual void tick(std::uint64_t /*now*/) {}  // every iteration of Measure and Drain
  virtual bool drained() const { return true; }
  virtual void finish() {}  // after the drain, before closing: final loss accounting

  void on_tcp_connected(std::uint32_t i) override;
  void on_connack(std::uint32_t i) override;
  void on_suback(std::uint32_t i) override;
  void on_closed(std::uint32_t i, CloseReason why) override;

  bool measuring() const { return phase_ == Phase::Measure; }
  bool active(std::uint32_t i) { return loop_.client(i).state == ClientState::Active; }

  // Queues a PUBLISH whose payload carries seq and the current time; counts it as sent.
  // Returns the packet id used (0 for QoS 0).
  std::uint16_t publish(std::uint32_t i, std::string_view topic, std::uint64_t seq);

  // Per-receiver sequence check (one publisher per receiver stream).
  struct SeqTrack {
    std::uint64_t expected = 0;  // next sequence number due
  };
  void track(SeqTrack& t, const core::Publish& p, std::uint64_t now);
  // Flows the publisher completed that this receiver never saw count as lost (QoS >= 1).
  void account_tail(const SeqTrack& t, std::uint64_t acked_by_publisher);

  const Options& opt_;
  WorkerContext ctx_;
  core::QoS qos_;
  std::vector<std::string> sub_topic_;  // per client; empty = does not subscribe
  ClientLoop loop_;
  Tally tally_;
  Phase phase_ = Phase::Setup;
  std::uint64_t window_start_ = 0;  // when the measured window began (ns)

 private:
  void ramp(std::uint64_t now);
  void keep_alive(std::uint64_t now);
  void set_ready(std::uint32_t i);
  void disconnect_all();  // counts the clients held, sends their DISCONNECTs
  void close_all();

  const SourceAddresses& sources_;
  std::vector<std::uint8_t> ever_active_;
  Progress progress_;
  std::uint32_t opened_ = 0;
  std::uint32_t ready_ = 0;
  std::uint32_t failed_ = 0;
  std::uint64_t setup_start_ = 0;
  std::uint64_t last_keepalive_scan_ = 0;
  std::string id_scratch_;
};

}  // namespace shardmq::loadgen
